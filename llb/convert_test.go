package llb

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

const testSpec = `version: 1
goflags: -mod=readonly
binaries:
  - package: ./cmd/server
    tags: [netgo, osusergo]
    ldflags: ["-X main.version={{.Version}}", "-X main.arch={{.Target.Arch}}{{.Target.Variant}}"]
  - package: ./cmd/worker
image:
  ports: [8080]
  env: {MODE: prod}
`

// step is one decoded op of a definition, with its progress name.
type step struct {
	op   *pb.Op
	raw  []byte
	name string
	// ignoreCache: the step runs on every build.
	ignoreCache bool
}

// stepsByDigest finds a step by the digest its dependents name it by.
func stepsByDigest(steps []step) map[digest.Digest]step {
	byDigest := map[digest.Digest]step{}
	for _, s := range steps {
		byDigest[digest.FromBytes(s.raw)] = s
	}
	return byDigest
}

func convert(t *testing.T, specText, target string, mod func(*Options)) ([]step, *Result) {
	t.Helper()
	s, opt := testInput(t, specText, target, mod)
	res, err := Convert(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return marshalSteps(t, res.State, opt), res
}

// convertTarget is convert for a target other than the image (Test, Vet),
// on the build platform.
func convertTarget(t *testing.T, specText string, target func(*spec.Spec, Options) (bkllb.State, error), mod func(*Options)) []step {
	t.Helper()
	s, opt := testInput(t, specText, "linux/amd64", mod)
	st, err := target(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return marshalSteps(t, st, opt)
}

func testInput(t *testing.T, specText, target string, mod func(*Options)) (*spec.Spec, Options) {
	t.Helper()
	s := parseFilled(t, specText)
	build := platforms.MustParse("linux/amd64")
	opt := Options{
		BuildPlatform:  build,
		TargetPlatform: platforms.MustParse(target),
		// A session id, as the frontend always has, keeps the local source
		// free of a random per-marshal id.
		Context: bkllb.Local("context", bkllb.SessionID("test"), bkllb.SharedKeyHint("context")),
		Builder: bkllb.Image("golang:1.26", bkllb.Platform(build)),
		Version: "v1.2.3",
	}
	if mod != nil {
		mod(&opt)
	}
	return s, opt
}

func parseFilled(t *testing.T, specText string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse("gobuild.yaml", []byte(specText))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
		t.Fatal(err)
	}
	return s
}

func marshalSteps(t *testing.T, st bkllb.State, opt Options) []step {
	t.Helper()
	def, err := st.Marshal(context.Background(), bkllb.Platform(opt.TargetPlatform))
	if err != nil {
		t.Fatal(err)
	}
	var steps []step
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		meta := def.Metadata[digest.FromBytes(dt)]
		steps = append(steps, step{op: &op, raw: dt, name: meta.Description["llb.customname"], ignoreCache: meta.IgnoreCache})
	}
	return steps
}

func findStep(t *testing.T, steps []step, name string) *pb.Op {
	t.Helper()
	for _, s := range steps {
		if s.name == name {
			return s.op
		}
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.name)
	}
	t.Fatalf("no step %q in %q", name, names)
	return nil
}

func env(e *pb.ExecOp) map[string]string {
	m := map[string]string{}
	for _, kv := range e.Meta.Env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func cacheMounts(e *pb.ExecOp) map[string]string {
	m := map[string]string{}
	for _, mnt := range e.Mounts {
		if mnt.MountType == pb.MountType_CACHE {
			if mnt.CacheOpt.Sharing != pb.CacheSharingOpt_SHARED {
				m[mnt.Dest] = "not shared"
				continue
			}
			m[mnt.Dest] = mnt.CacheOpt.ID
		}
	}
	return m
}

// TestDeterministic marshals the same conversion many times: map order or
// anything else random must not reach the definition.
func TestDeterministic(t *testing.T) {
	var first []byte
	for i := range 20 {
		// With the dependency layers: the imports are read from a map.
		steps, _ := convert(t, testSpec, "linux/arm64", func(o *Options) {
			o.ModulePath, o.CacheImported = "example.com/x", true
			o.Imports = ReadImports(depsTestFiles)
		})
		var b bytes.Buffer
		for _, s := range steps {
			b.Write(s.raw)
			b.WriteString(s.name)
		}
		if i == 0 {
			first = b.Bytes()
		} else if !bytes.Equal(first, b.Bytes()) {
			t.Fatalf("marshal %d differs from the first", i)
		}
	}
}

// TestTemplatesRenderedWhereUsed: each step renders only the templates it
// uses, so a build-arg read only by the test target is not needed for the
// image, and a missing one is an error at its line, whichever step reads it.
func TestTemplatesRenderedWhereUsed(t *testing.T) {
	const text = `version: 1
goproxy: "{{.Args.PROXY}}"
binaries:
  - package: ./cmd/a
    ldflags: ["-X main.v={{.Args.LD}}"]
  - package: ./cmd/b
    platforms: [linux/arm64]
    env: {B: "{{.Args.ARM_ONLY}}"}
image:
  labels: {l: "{{.Args.LABEL}}"}
test:
  env: {T: "{{.Args.TEST}}"}
`
	all := map[string]string{"PROXY": "p", "LD": "l", "LABEL": "x"}
	without := func(name string) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			if k != name {
				m[k] = v
			}
		}
		return m
	}
	run := func(target string, args map[string]string, build func(*spec.Spec, Options) error) error {
		s, err := spec.Parse("gobuild.yaml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
			t.Fatal(err)
		}
		return build(s, Options{BuildPlatform: platforms.MustParse("linux/amd64"), TargetPlatform: platforms.MustParse(target),
			Builder: bkllb.Image("golang:1.26"), Args: args})
	}
	image := func(s *spec.Spec, opt Options) error { _, err := Convert(context.Background(), s, opt); return err }
	test := func(s *spec.Spec, opt Options) error { _, err := Test(s, opt); return err }
	cases := []struct {
		name    string
		target  string
		args    map[string]string
		build   func(*spec.Spec, Options) error
		wantErr string
	}{
		{"image without the test's arg", "linux/amd64", all, image, ""},
		{"amd64 image without the arm64 binary's arg", "linux/amd64", all, image, ""},
		{"arm64 image needs it", "linux/arm64", all, image, "gobuild.yaml:8:14: invalid template"},
		{"image needs the label's arg", "linux/amd64", without("LABEL"), image, "gobuild.yaml:10:15: invalid template"},
		{"image needs the ldflags' arg", "linux/amd64", without("LD"), image, "gobuild.yaml:5:15: invalid template"},
		{"image needs the proxy's arg", "linux/amd64", without("PROXY"), image, "gobuild.yaml:2:10: goproxy: invalid template"},
		{"test needs its arg", "linux/amd64", all, test, "gobuild.yaml:12:12: invalid template"},
		{"test without the image's args", "linux/amd64", map[string]string{"PROXY": "p", "TEST": "t"}, test, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.target, tc.args, tc.build)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestUnfilledSpecRefused: the translation never decides a default itself;
// given a spec whose defaults are not filled, it says so.
func TestUnfilledSpecRefused(t *testing.T) {
	s, err := spec.Parse("gobuild.yaml", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{BuildPlatform: platforms.MustParse("linux/amd64"), TargetPlatform: platforms.MustParse("linux/amd64"), Builder: bkllb.Image("golang:1.26")}
	if _, err := Convert(context.Background(), s, opt); err != spec.ErrNotFilled {
		t.Errorf("Convert: %v", err)
	}
	if _, err := Binaries(s, opt); err != spec.ErrNotFilled {
		t.Errorf("Binaries: %v", err)
	}
	if _, err := Test(s, opt); err != spec.ErrNotFilled {
		t.Errorf("Test: %v", err)
	}
	if _, err := Vet(s, opt); err != spec.ErrNotFilled {
		t.Errorf("Vet: %v", err)
	}
}
