package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestTemplateFieldUses(t *testing.T) {
	s, err := Parse("gobuild.yaml", []byte(`version: 1
binaries:
  - package: ./cmd/a
    ldflags: ["-X main.v={{.Version}}", "-X main.c={{.Commit}}"]
  - package: ./cmd/b
    ldflags: ["-X main.c={{if .ShortCommit}}{{$.ShortCommit}}{{end}}"]
image:
  labels:
    built: "{{with .Args.X}}{{$.Date}}{{end}}"
    plain: Commit
`))
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string][]int{"Commit": {4}, "ShortCommit": {6}, "Date": {9}, "Version": {4}, "Target": nil} {
		var got []int
		for _, p := range s.TemplateFieldUses(field) {
			got = append(got, p.Line)
		}
		if !slices.Equal(got, want) {
			t.Errorf("TemplateFieldUses(%q) lines = %v, want %v", field, got, want)
		}
	}
}

func TestPartReads(t *testing.T) {
	vcs := []string{"Version", "Commit", "ShortCommit", "Date"}
	for _, tc := range []struct {
		name, yaml string
		want       bool
	}{
		{"no templates", "goproxy: https://proxy.golang.org\n", false},
		{"args only", "goproxy: \"{{.Args.PROXY}}\"\nenv:\n  A: \"{{.Target.Arch}}\"\n", false},
		{"binary ldflags are another part", "binaries:\n  - package: ./cmd/a\n    ldflags: [\"-X main.c={{.Commit}}\"]\n", false},
		{"env reads the commit", "env:\n  C: \"{{.Commit}}\"\n", true},
		{"goflags read the date", "goflags: \"-x={{$.Date}}\"\n", true},
		{"chained field", "goprivate: \"{{(.).Version}}\"\n", true},
		{"whole data", "env:\n  D: \"{{printf \\\"%v\\\" .}}\"\n", true},
		{"variable", "env:\n  D: \"{{$d := .Args}}{{$d}}\"\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := "version: 1\n" + tc.yaml
			if !strings.Contains(doc, "binaries:") {
				doc += "binaries: [{package: ./cmd/a}]\n"
			}
			s, err := Parse("gobuild.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.PartReads(PartGo, vcs...); got != tc.want {
				t.Errorf("PartReads(PartGo, VCS fields) = %v, want %v", got, tc.want)
			}
		})
	}
}
