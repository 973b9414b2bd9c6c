package frontend

import (
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
)

type optsClient struct {
	client.Client
	opts map[string]string
}

func (c optsClient) BuildOpts() client.BuildOpts { return client.BuildOpts{Opts: c.opts} }

func TestDefaultFilename(t *testing.T) {
	cases := []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{}, "gobuild.yaml"},
		{map[string]string{"filename": "deploy/app.yaml"}, "deploy/app.yaml"},
	}
	for _, tc := range cases {
		inner := optsClient{opts: tc.opts}
		got := withDefaultFilename{inner}.BuildOpts().Opts["filename"]
		if got != tc.want {
			t.Errorf("opts %v: filename %q, want %q", tc.opts, got, tc.want)
		}
		if _, changed := tc.opts["filename"]; !changed && len(tc.opts) != 0 {
			t.Error("the client's own options were modified")
		}
	}
}

func TestSourceDateEpoch(t *testing.T) {
	if tm, err := sourceDateEpoch(map[string]string{}); tm != nil || err != nil {
		t.Errorf("unset: %v, %v", tm, err)
	}
	tm, err := sourceDateEpoch(map[string]string{"SOURCE_DATE_EPOCH": "1700000000"})
	if err != nil || tm.Unix() != 1700000000 {
		t.Errorf("set: %v, %v", tm, err)
	}
	if _, err := sourceDateEpoch(map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("bad value: %v", err)
	}
}

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
