package llb

import (
	"slices"
	"testing"
)

func TestBuildSeesOnlyGoSources(t *testing.T) {
	steps, _ := convert(t, "version: 1\nbinaries:\n  - package: ./cmd/server\n    flags: [-pgo=profiles/cpu.pprof]\n", "linux/amd64", func(o *Options) {
		o.Sources = &SourceSet{Embeds: []string{"cmd/server/static"}}
	})
	cp := findStep(t, steps, "[internal] select the files go build reads").GetFile().Actions[0].GetCopy()
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
		if s.name == "[internal] select the files go build reads" {
			t.Error("the context was narrowed without a source set")
		}
	}
}
