package spec

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestLint: each rule fires where it should, at the line it should, and
// stays quiet where it should not. Every rule of LintRules has a case that
// fires it.
func TestLint(t *testing.T) {
	const pinned = "builder: golang:1.26@sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
	ignoreGit := []string{".git"}
	cases := []struct {
		name   string
		spec   string
		ignore []string
		// want maps each expected rule to its line; rules not listed must
		// not fire.
		want map[string]int
	}{
		{"clean", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\n", ignoreGit, nil},
		{"floating builder", "version: 1\nbuilder: golang:1.26\nbinaries: [{package: ./cmd/a}]\n", ignoreGit, map[string]int{"FloatingImage": 2}},
		{"default builder floats", "version: 1\nbinaries: [{package: ./cmd/a}]\n", ignoreGit, map[string]int{"FloatingImage": 1}},
		{"latest base", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\nimage:\n  base: alpine\n", ignoreGit, map[string]int{"LatestTag": 5}},
		{"latest builder tag", "version: 1\nbuilder: golang:latest\nbinaries: [{package: ./cmd/a}]\n", ignoreGit, map[string]int{"LatestTag": 2}},
		{"pinned base", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\nimage:\n  base: alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", ignoreGit, nil},
		{"root user", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\nimage:\n  user: root\n", ignoreGit, map[string]int{"RunsAsRoot": 5}},
		{"root uid with group", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\nimage:\n  user: \"0:0\"\n", ignoreGit, map[string]int{"RunsAsRoot": 5}},
		{"nonroot user", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\nimage:\n  user: \"1000\"\n", ignoreGit, nil},
		{"cgo dynamic", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    cgo: true\nimage:\n  base: gcr.io/distroless/base-debian12@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", ignoreGit, map[string]int{"CgoDynamicLink": 5}},
		{"cgo static", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    cgo: true\n    ldflags: [-linkmode=external, -extldflags=-static]\n", ignoreGit, nil},
		{"git sent", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\n", nil, map[string]int{"GitDirInContext": 1}},
		{"git ignored with a pattern", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\n", []string{"/**/.git/"}, nil},
		{"buildvcs needs git", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    buildvcs: true\n", ignoreGit, map[string]int{"BuildvcsWithoutGit": 4}},
		{"buildvcs with git", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    buildvcs: true\n", nil, nil},
		{"entrypoint not built", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\nimage:\n  entrypoint: [/usr/local/bin/b]\n", ignoreGit, map[string]int{"EntrypointNotBinary": 5}},
		{"entrypoint elsewhere", "version: 1\n" + pinned + "binaries: [{package: ./cmd/a}]\nimage:\n  entrypoint: [/bin/tini, /usr/local/bin/a]\n", ignoreGit, nil},
	}
	fired := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.spec)
			if err := s.FillDefaults([]byte(goMod126)); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, f := range Lint(s, LintInput{Dockerignore: tc.ignore}) {
				got[f.Rule] = f.Pos.Line
				fired[f.Rule] = true
				if f.Description != LintRules[f.Rule] || f.Detail == "" {
					t.Errorf("%s: description %q, detail %q", f.Rule, f.Description, f.Detail)
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("findings (rule: line) = %v, want %v", got, tc.want)
			}
		})
	}
	for _, rule := range slices.Sorted(maps.Keys(LintRules)) {
		if !fired[rule] {
			t.Errorf("rule %s has no case that fires it", rule)
		}
	}
}

// TestLintOnUnfilledSpec: lint never panics on what Parse accepts, even
// before the defaults are filled (a --call=check without go.mod).
func TestLintOnUnfilledSpec(t *testing.T) {
	s := mustParse(t, "version: 1\nbinaries: [{package: ./cmd/a}]\n")
	for _, f := range Lint(s, LintInput{}) {
		if !strings.HasPrefix(f.Rule, "GitDir") {
			t.Errorf("unexpected finding %+v", f)
		}
	}
}
