package frontend

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/gateway/client"
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
