package llb

import (
	"slices"
	"testing"
)

func TestBuildSeesOnlyGoSources(t *testing.T) {
	steps, _ := convert(t, "version: 1\nbinaries:\n  - package: ./cmd/server\n    flags: [-pgo=profiles/cpu.pprof]\n", "linux/amd64", func(o *Options) {
		o.Sources = &SourceSet{Embeds: []string{"cmd/server/static"}}
	})
	cp := findStep(t, steps, StepSelectSources).GetFile().Actions[0].GetCopy()
	for _, want := range []string{"**/*.go", "**/go.sum", "**/vendor/**", "cmd/server/static", "cmd/server/static/**", "profiles/cpu.pprof"} {
		if !slices.Contains(cp.IncludePatterns, want) {
			t.Errorf("include patterns %q lack %q", cp.IncludePatterns, want)
		}
	}
	if slices.Contains(cp.IncludePatterns, ".git/**") {
		t.Error(".git reaches go build, which stamps no VCS data")
	}

	// Without a source set (the frontend could not read the directives),
	// the build sees the context as it is.
	steps, _ = convert(t, testSpec, "linux/amd64", nil)
	for _, s := range steps {
		if s.name == StepSelectSources {
			t.Error("the context was narrowed without a source set")
		}
	}
}

// TestBuildvcsSeesWholeContext: go build -buildvcs=true asks git whether
// the checkout is modified, so it sees every file of the context: a tree of
// Go files alone would look like a checkout with the rest deleted.
func TestBuildvcsSeesWholeContext(t *testing.T) {
	steps, _ := convert(t, "version: 1\nbinaries:\n  - package: ./cmd/server\n    buildvcs: true\n", "linux/amd64", func(o *Options) {
		o.Sources = &SourceSet{}
	})
	for _, s := range steps {
		if s.name == StepSelectSources {
			t.Error("the context was narrowed for a binary that stamps VCS data")
		}
	}
}

func TestSplitEmbedArgs(t *testing.T) {
	cases := []struct {
		args string
		want []string
		bad  bool
	}{
		{" greeting.txt", []string{"greeting.txt"}, false},
		{"\tstatic  templates/*.html", []string{"static", "templates/*.html"}, false},
		{` "with space.txt" ` + "`raw name`", []string{"with space.txt", "raw name"}, false},
		{" all:assets", []string{"all:assets"}, false},
		{` "unterminated`, nil, true},
		{"", nil, false},
	}
	for _, tc := range cases {
		got, err := splitEmbedArgs(tc.args)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("splitEmbedArgs(%q) = %q, %v; want %q, bad=%v", tc.args, got, err, tc.want, tc.bad)
		}
	}
}

func TestEmbedPatterns(t *testing.T) {
	files := map[string][]GoFile{
		"cmd/server": {
			{Name: "main.go", Data: []byte("package main\n\nimport _ \"embed\"\n\n//go:embed greeting.txt\nvar g string\n\n//go:embed all:static \"a b.txt\"\nvar s embed.FS\n")},
			{Name: "main_test.go", Data: []byte("package main\n//go:embed testonly.txt\nvar t string\n")},
		},
		".": {{Name: "doc.go", Data: []byte("// Package x mentions //go:embed in prose only.\n//go:embedded is not a directive\npackage x\n")}},
	}
	got, ok := EmbedPatterns(files)
	want := []string{"cmd/server/a b.txt", "cmd/server/greeting.txt", "cmd/server/static"}
	if !ok || !slices.Equal(got, want) {
		t.Errorf("EmbedPatterns = %q, %v; want %q", got, ok, want)
	}

	files["pkg"] = []GoFile{{Name: "bad.go", Data: []byte("package pkg\n//go:embed \"open\n")}}
	if _, ok := EmbedPatterns(files); ok {
		t.Error("an unreadable directive did not turn narrowing off")
	}
}

func TestCheckMainPackage(t *testing.T) {
	main := GoFile{Name: "main.go", Data: []byte("package main\n")}
	lib := GoFile{Name: "lib.go", Data: []byte("package calc\n")}
	test := GoFile{Name: "main_test.go", Data: []byte("package main_test\n")}
	if err := CheckMainPackage([]GoFile{main, test}); err != nil {
		t.Errorf("main package: %v", err)
	}
	if err := CheckMainPackage([]GoFile{lib}); err == nil || err.Error() != "is package calc, not a main package" {
		t.Errorf("library package: %v", err)
	}
	if err := CheckMainPackage(nil); err == nil {
		t.Error("missing directory accepted")
	}
}

// TestSymlinksInViews: the symlinks a package directory, go.mod or go.sum
// go through, and what the module files' links lead to, are in the views
// of the context the go commands get, which would otherwise leave them
// out (a link is copied as a link, matched by its own name).
func TestSymlinksInViews(t *testing.T) {
	steps, _ := convert(t, "version: 1\nbinaries:\n  - package: ./cmd/server\n", "linux/amd64", func(o *Options) {
		o.Sources = &SourceSet{Links: []string{"cmd/server"}}
		o.Modules = ModuleFiles{Links: []string{"go.mod", "build/module.txt"}}
	})
	cp := findStep(t, steps, StepSelectSources).GetFile().Actions[0].GetCopy()
	for _, want := range []string{"cmd/server", "go.mod", "build/module.txt"} {
		if !slices.Contains(cp.IncludePatterns, want) {
			t.Errorf("go build's include patterns %q lack %q", cp.IncludePatterns, want)
		}
	}
	cp = findStep(t, steps, StepCopyModuleFiles).GetFile().Actions[0].GetCopy()
	if cp.Src != "/" || !slices.Contains(cp.IncludePatterns, "build/module.txt") {
		t.Errorf("module files copied from %s with %q, want / with build/module.txt", cp.Src, cp.IncludePatterns)
	}
}
