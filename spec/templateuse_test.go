package spec

import (
	"slices"
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
