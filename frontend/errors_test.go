package frontend

import (
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
