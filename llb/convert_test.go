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
env: {GOFLAGS: -mod=readonly}
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
}

func convert(t *testing.T, specText, target string, mod func(*Options)) ([]step, *Result) {
	t.Helper()
	s, err := spec.Parse("gobuild.yaml", []byte(specText))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
		t.Fatal(err)
	}
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
	res, err := Convert(context.Background(), s, opt)
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.State.Marshal(context.Background(), bkllb.Platform(opt.TargetPlatform))
	if err != nil {
		t.Fatal(err)
	}
	var steps []step
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, step{op: &op, raw: dt, name: def.Metadata[digest.FromBytes(dt)].Description["llb.customname"]})
	}
	return steps, res
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
		steps, _ := convert(t, testSpec, "linux/arm64", nil)
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
