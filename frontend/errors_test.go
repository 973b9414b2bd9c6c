package frontend

import (
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
)

// TestSpecErrorsCarryEveryLine: all problems of a spec reach the client as
// ranges of one source, so each offending line is shown.
func TestSpecErrorsCarryEveryLine(t *testing.T) {
	data := []byte("version: 1\nbinaries:\n  - package: ./x\n    nme: y\nimag:\n  ports: [1]\n")
	_, err := spec.Parse("gobuild.yaml", data)
	if err == nil {
		t.Fatal("no error")
	}
	st := llb.Scratch()
	wrapped := withSpecSource(err, llb.NewSourceMap(&st, "gobuild.yaml", "YAML", data))
	sources := errdefs.Sources(wrapped)
	if len(sources) != 1 {
		t.Fatalf("%d sources", len(sources))
	}
	var lines []int32
	for _, r := range sources[0].Ranges {
		lines = append(lines, r.Start.Line)
	}
	if len(lines) != 2 || lines[0] != 4 || lines[1] != 5 {
		t.Errorf("lines = %v, want [4 5]", lines)
	}
}

// TestGoModSyntaxAtItsLine: a go.mod that does not parse fails at its own
// line, with go.mod as the source, and a spec source is not laid over it.
func TestGoModSyntaxAtItsLine(t *testing.T) {
	data := []byte("module example.com/x\n\ngo 1.26\n\nrequre example.com/y v1.0.0\n")
	err := goModSyntax(llb.NewSourceMap(nil, "sub/go.mod", "", data))
	if err == nil || !strings.Contains(err.Error(), "sub/go.mod:5: unknown directive: requre; fix sub/go.mod") {
		t.Fatalf("error = %v", err)
	}
	specData := []byte("version: 1\n")
	err = withSpecSource(err, llb.NewSourceMap(nil, "gobuild.yaml", "YAML", specData))
	sources := errdefs.Sources(err)
	if len(sources) != 1 || sources[0].Info.Filename != "sub/go.mod" || len(sources[0].Ranges) != 1 || sources[0].Ranges[0].Start.Line != 5 {
		t.Errorf("sources = %v", sources)
	}
	if goModSyntax(llb.NewSourceMap(nil, "go.mod", "", []byte("module example.com/x\n\ngo 1.26\n"))) != nil {
		t.Error("a good go.mod is refused")
	}
}

// A go.work or a workspace member's go.mod that does not parse fails at
// its own line too.
func TestWorkspaceSyntaxAtItsLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		facts moduleFacts
		file  string
		line  int32
	}{
		{"go.work", moduleFacts{work: "go.work", workData: []byte("go 1.26\n\nuse ./a\nusee ./b\n")}, "go.work", 4},
		{"a member's go.mod", moduleFacts{work: "go.work", workData: []byte("go 1.26\n\nuse ./a\n"),
			members: map[string][]byte{"a": []byte("module example.com/a\n\ngo 1.26\nrequre example.com/b v1.0.0\n")}}, "a/go.mod", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.facts.workspace()
			sources := errdefs.Sources(err)
			if err == nil || len(sources) != 1 || sources[0].Info.Filename != tc.file || len(sources[0].Ranges) == 0 || sources[0].Ranges[0].Start.Line != tc.line {
				t.Errorf("error %v, sources %v; want %s line %d", err, sources, tc.file, tc.line)
			}
		})
	}
}
