package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/platforms"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
	fstypes "github.com/tonistiigi/fsutil/types"
)

type optsClient struct {
	client.Client
	opts map[string]string
}

func (c optsClient) BuildOpts() client.BuildOpts { return client.BuildOpts{Opts: c.opts} }

// TestDefaultFilename: gobuild.yaml is the filename when the client names
// none, an explicit one is kept, every other option is kept, and the
// client's own map is never written to.
func TestDefaultFilename(t *testing.T) {
	cases := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"nil map", nil, "gobuild.yaml"},
		{"empty map", map[string]string{}, "gobuild.yaml"},
		{"other options", map[string]string{"target": "binaries", "build-arg:VERSION": "v1"}, "gobuild.yaml"},
		{"empty filename", map[string]string{"filename": "", "target": "test"}, "gobuild.yaml"},
		{"explicit", map[string]string{"filename": "deploy/app.yaml"}, "deploy/app.yaml"},
		{"explicit with others", map[string]string{"filename": "deploy/app.yaml", "target": "vet"}, "deploy/app.yaml"},
	}
	for _, tc := range cases {
		before := maps.Clone(tc.opts)
		got := withDefaultFilename{optsClient{opts: tc.opts}}.BuildOpts().Opts
		if got["filename"] != tc.want {
			t.Errorf("%s: filename %q, want %q", tc.name, got["filename"], tc.want)
		}
		want := maps.Clone(before)
		if want == nil {
			want = map[string]string{}
		}
		want["filename"] = tc.want
		if !maps.Equal(got, want) {
			t.Errorf("%s: options %v, want %v", tc.name, got, want)
		}
		if !maps.Equal(tc.opts, before) || (tc.opts == nil) != (before == nil) {
			t.Errorf("%s: the client's own options were changed from %v to %v", tc.name, before, tc.opts)
		}
	}
}

// fakeGateway is a gateway client whose every solved reference holds the
// same files. It records what Build asks of it; anything else it is asked
// panics through the nil client.Client.
type fakeGateway struct {
	client.Client
	opts  map[string]string
	files map[string][]byte

	// llbCaps, when set, are the daemon's; else all BuildKit knows.
	llbCaps []*apicaps.PBCap

	mu       sync.Mutex
	solves   int
	resolves []string
}

func (g *fakeGateway) BuildOpts() client.BuildOpts {
	llbCaps := g.llbCaps
	if llbCaps == nil {
		llbCaps = pb.Caps.All()
	}
	// No gateway capabilities: the spec and the context come from locals.
	return client.BuildOpts{Opts: g.opts, LLBCaps: pb.Caps.CapSet(llbCaps), Caps: gwpb.Caps.CapSet(nil)}
}

// A daemon without exec.mount.cache.content (before BuildKit v0.13) is
// not asked to key read-only mounts by their step: it would refuse the
// definition.
func TestMountsKeyedByContent(t *testing.T) {
	older := slices.DeleteFunc(pb.Caps.All(), func(c *apicaps.PBCap) bool { return c.ID == string(pb.CapExecMountContentCache) })
	for _, tc := range []struct {
		name string
		caps []*apicaps.PBCap
		want bool
	}{{"current daemon", nil, false}, {"older daemon", older, true}} {
		b := &builder{c: &fakeGateway{llbCaps: tc.caps}}
		if got := b.mountsKeyedByContent(); got != tc.want {
			t.Errorf("%s: MountsKeyedByContent %v, want %v", tc.name, got, tc.want)
		}
	}
}

func (g *fakeGateway) Solve(context.Context, client.SolveRequest) (*client.Result, error) {
	g.mu.Lock()
	g.solves++
	g.mu.Unlock()
	res := client.NewResult()
	res.SetRef(fakeRef{files: g.files})
	return res, nil
}

func (g *fakeGateway) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	g.mu.Lock()
	g.resolves = append(g.resolves, ref)
	g.mu.Unlock()
	return "", "", nil, errors.New("no registry here")
}

type fakeRef struct {
	client.Reference
	files map[string][]byte
}

func (r fakeRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	if data, ok := r.files[req.Filename]; ok {
		return data, nil
	}
	return nil, errors.New(req.Filename + ": not found")
}

func (r fakeRef) StatFile(_ context.Context, req client.StatRequest) (*fstypes.Stat, error) {
	return nil, errors.New(req.Path + ": not found")
}

func (r fakeRef) ReadDir(context.Context, client.ReadDirRequest) ([]*fstypes.Stat, error) {
	return nil, nil
}

func newFakeGateway(opts map[string]string) *fakeGateway {
	return &fakeGateway{opts: opts, files: map[string][]byte{
		"gobuild.yaml": []byte("version: 1\nbinaries:\n  - package: ./cmd/app\n"),
		"go.mod":       []byte("module example.com/app\n\ngo 1.26\n"),
	}}
}

// TestBuildChecksRequestFirst: an unknown target or a bad build-arg fails
// the build once the spec is read, before anything else is read from the
// context (one solve, the spec's) or any image is resolved.
func TestBuildChecksRequestFirst(t *testing.T) {
	cases := []struct {
		name string
		opts map[string]string
		want string
	}{
		{"unknown target", map[string]string{"target": "imgae"},
			`unknown target "imgae"; valid targets: image, debug, binaries, test, vet, vuln, spec`},
		{"bad epoch", map[string]string{"build-arg:SOURCE_DATE_EPOCH": "yesterday"},
			`build-arg SOURCE_DATE_EPOCH="yesterday" is not a number of seconds since 1970`},
		{"bad module cache", map[string]string{"target": "binaries", "build-arg:GOBUILD_MODULE_CACHE": "volume"},
			`build-arg GOBUILD_MODULE_CACHE="volume": want "mount" (a persistent cache mount) or "layer" (a layer a registry cache carries)`},
	}
	for _, tc := range cases {
		g := newFakeGateway(tc.opts)
		_, err := Build(context.Background(), g)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.want)
		}
		if g.solves != 1 || len(g.resolves) != 0 {
			t.Errorf("%s: %d solves and image resolves %q before the error; want only the spec read", tc.name, g.solves, g.resolves)
		}
	}
}

// TestBuildListsTargets: --call=targets answers with the target table, the
// first as the default, whatever the build-args say.
func TestBuildListsTargets(t *testing.T) {
	g := newFakeGateway(map[string]string{"requestid": "frontend.targets", "build-arg:SOURCE_DATE_EPOCH": "yesterday"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	var l targets.List
	if err := json.Unmarshal(res.Metadata["result.json"], &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Targets) != len(targetTable) {
		t.Fatalf("%d targets listed, want %d: %+v", len(l.Targets), len(targetTable), l.Targets)
	}
	for i, got := range l.Targets {
		want := targetTable[i]
		if got.Name != want.name || got.Description != want.description || got.Default != (i == 0) {
			t.Errorf("target %d = %+v, want %s: %s, default %v", i, got, want.name, want.description, i == 0)
		}
	}
	if len(l.Sources) != 1 || string(l.Sources[0]) != string(g.files["gobuild.yaml"]) {
		t.Errorf("sources = %q, want the spec", l.Sources)
	}
}

// TestCheckTargetPlatforms: the client's platforms pass the check the
// spec's do, and a refusal names --platform and what to ask for.
func TestCheckTargetPlatforms(t *testing.T) {
	cases := []struct {
		platforms []string
		want      string
	}{
		{[]string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, ""},
		{[]string{"linux/amd64", "windows/amd64"}, `--platform: "windows/amd64": only linux images are supported; ask for linux platforms, such as linux/amd64 or linux/arm64`},
		{[]string{"darwin/arm64"}, `--platform: "darwin/arm64": only linux images are supported`},
		{[]string{"linux/sparc64"}, `--platform: "linux/sparc64": architecture "sparc64" is not supported by Go`},
	}
	for _, tc := range cases {
		var ps []ocispecs.Platform
		for _, p := range tc.platforms {
			ps = append(ps, platforms.MustParse(p))
		}
		err := checkTargetPlatforms(ps)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: error %v, want %q", tc.platforms, err, tc.want)
		}
	}
}

// The toolchain layer is taken only from an image whose config says its go
// is the distribution at the default place, run by root.
func TestGoroot(t *testing.T) {
	const path = "PATH=/go/bin:/usr/local/go/bin:/usr/bin:/bin"
	for _, tc := range []struct {
		name string
		env  []string
		user string
		want string
	}{
		{"golang image", []string{"GOLANG_VERSION=1.26.8", path}, "", "/usr/local/go"},
		{"root by number", []string{"GOLANG_VERSION=1.26.8", path, "GOROOT=/usr/local/go/"}, "0", "/usr/local/go"},
		{"not a golang image", []string{path}, "", ""},
		{"go elsewhere", []string{"GOLANG_VERSION=1.26.8", "PATH=/usr/lib/go/bin:/usr/bin"}, "", ""},
		{"another GOROOT", []string{"GOLANG_VERSION=1.26.8", path, "GOROOT=/opt/go"}, "", ""},
		{"a named user", []string{"GOLANG_VERSION=1.26.8", path}, "builder", ""},
		{"GOFLAGS in the image", []string{"GOLANG_VERSION=1.26.8", path, "GOFLAGS=-tags=prod"}, "", ""},
	} {
		img := &dockerspec.DockerOCIImage{}
		img.Config.Env, img.Config.User = tc.env, tc.user
		if got := goroot(img); got != tc.want {
			t.Errorf("%s: goroot = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := goroot(nil); got != "" {
		t.Errorf("no config: goroot = %q", got)
	}
}
