package frontend

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/lint"
)

// readmeSpec is the spec at the top of the README.
const readmeSpec = "version: 1\nbinaries:\n  - package: ./cmd/server\n    ldflags: [\"-X main.version={{.Version}}\"]\nimage:\n  ports: [8080]\n"

// call answers one subrequest of the fake gateway with the README's spec
// and the given .dockerignore, and decodes the answer into v.
func call(t *testing.T, request, dockerignore string, opts map[string]string, v any) {
	t.Helper()
	o := maps.Clone(opts)
	if o == nil {
		o = map[string]string{}
	}
	o["requestid"] = request
	g := newFakeGateway(o)
	g.files["gobuild.yaml"] = []byte(readmeSpec)
	if dockerignore != "" {
		g.files[".dockerignore"] = []byte(dockerignore)
	}
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(res.Metadata["result.json"], v); err != nil {
		t.Fatal(err)
	}
}

// TestCheckReadsTheClientsOptions: whether .git must be in the context
// depends on what the client passes: VERSION, vcs:revision and
// SOURCE_DATE_EPOCH each replace one thing the frontend reads from .git.
func TestCheckReadsTheClientsOptions(t *testing.T) {
	all := map[string]string{"build-arg:VERSION": "v1.2.3", "vcs:revision": "0123456789abcdef0123456789abcdef01234567", "build-arg:SOURCE_DATE_EPOCH": "1700000000"}
	without := func(key string) map[string]string {
		m := maps.Clone(all)
		delete(m, key)
		return m
	}
	cases := []struct {
		name         string
		dockerignore string
		opts         map[string]string
		want         []string
	}{
		{"git read, sent", "", nil, nil},
		{"git read, ignored", ".git\n", nil, []string{"GitDirIgnored"}},
		{"version from git, ignored", ".git\n", without("build-arg:VERSION"), []string{"GitDirIgnored"}},
		{"commit from git, ignored", ".git\n", without("vcs:revision"), []string{"GitDirIgnored"}},
		{"date from git, ignored", ".git\n", without("build-arg:SOURCE_DATE_EPOCH"), []string{"GitDirIgnored"}},
		{"nothing from git, ignored", ".git\n", all, nil},
		{"nothing from git, sent", "", all, nil},
	}
	for _, tc := range cases {
		var res lint.LintResults
		call(t, "frontend.lint", tc.dockerignore, tc.opts, &res)
		var got []string
		for _, w := range res.Warnings {
			got = append(got, w.RuleName)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: rules %q, want %q", tc.name, got, tc.want)
		}
	}
}
