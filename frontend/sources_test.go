package frontend

import (
	"slices"
	"testing"
)

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
	files := map[string][]goFile{
		"cmd/server": {
			{name: "main.go", data: []byte("package main\n\nimport _ \"embed\"\n\n//go:embed greeting.txt\nvar g string\n\n//go:embed all:static \"a b.txt\"\nvar s embed.FS\n")},
			{name: "main_test.go", data: []byte("package main\n//go:embed testonly.txt\nvar t string\n")},
		},
		".": {{name: "doc.go", data: []byte("// Package x mentions //go:embed in prose only.\n//go:embedded is not a directive\npackage x\n")}},
	}
	got, ok := embedPatterns(files)
	want := []string{"cmd/server/a b.txt", "cmd/server/greeting.txt", "cmd/server/static"}
	if !ok || !slices.Equal(got, want) {
		t.Errorf("embedPatterns = %q, %v; want %q", got, ok, want)
	}

	files["pkg"] = []goFile{{name: "bad.go", data: []byte("package pkg\n//go:embed \"open\n")}}
	if _, ok := embedPatterns(files); ok {
		t.Error("an unreadable directive did not turn narrowing off")
	}
}

func TestCheckMainPackage(t *testing.T) {
	main := goFile{name: "main.go", data: []byte("package main\n")}
	lib := goFile{name: "lib.go", data: []byte("package calc\n")}
	test := goFile{name: "main_test.go", data: []byte("package main_test\n")}
	if err := checkMainPackage([]goFile{main, test}); err != nil {
		t.Errorf("main package: %v", err)
	}
	if err := checkMainPackage([]goFile{lib}); err == nil || err.Error() != "is package calc, not a main package" {
		t.Errorf("library package: %v", err)
	}
	if err := checkMainPackage(nil); err == nil {
		t.Error("missing directory accepted")
	}
}
