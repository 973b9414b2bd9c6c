package llb

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

func TestImageConfig(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	_, res := convert(t, testSpec, "linux/arm64", func(o *Options) { o.Epoch = &epoch })
	img := res.Image
	if img.Architecture != "arm64" || img.OS != "linux" {
		t.Errorf("platform = %s/%s", img.OS, img.Architecture)
	}
	if img.Config.User != "65532" || !slices.Equal(img.Config.Entrypoint, []string{"/usr/local/bin/server"}) {
		t.Errorf("user=%q entrypoint=%q", img.Config.User, img.Config.Entrypoint)
	}
	wantEnv := []string{"MODE=prod", "PATH=" + defaultPath, "ZONEINFO=" + ZoneinfoPath}
	if !slices.Equal(img.Config.Env, wantEnv) {
		t.Errorf("env = %q, want %q", img.Config.Env, wantEnv)
	}
	if _, ok := img.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ports = %v", img.Config.ExposedPorts)
	}
	// The static base, then a layer per go build (server and worker build
	// apart).
	if !img.Created.Equal(epoch) || len(img.History) != 3 || !img.History[1].Created.Equal(epoch) || img.History[2].CreatedBy != "gobuild: /usr/local/bin/worker" {
		t.Errorf("created = %v, history = %+v", img.Created, img.History)
	}
}

func TestScratchHasNoBaseLayer(t *testing.T) {
	steps, res := convert(t, testSpec+"  base: scratch\n", "linux/amd64", nil)
	for _, s := range steps {
		if strings.HasPrefix(s.name, "static base") {
			t.Errorf("scratch image has step %q", s.name)
		}
	}
	if len(res.Image.History) != 2 || slices.Contains(res.Image.Config.Env, "ZONEINFO="+ZoneinfoPath) {
		t.Errorf("history = %d entries, env = %q", len(res.Image.History), res.Image.Config.Env)
	}
}

func TestImageExtras(t *testing.T) {
	const extrasSpec = `version: 1
binaries:
  - package: ./cmd/server
image:
  tzdata: false
  bases: {linux/arm64: scratch}
  volumes: [/data]
  stopsignal: SIGINT
  healthcheck: {command: [/usr/local/bin/server, -check], interval: 10s, retries: 2}
  annotations: {org.opencontainers.image.description: "server {{.Version}}"}
  files:
    - {src: static, dst: /srv, owner: "1000:1001", mode: "0440"}
`
	steps, res := convert(t, extrasSpec, "linux/amd64", nil)
	if res.Annotations["org.opencontainers.image.description"] != "server v1.2.3" {
		t.Errorf("annotations = %v", res.Annotations)
	}
	cfg := res.Image.Config
	if _, ok := cfg.Volumes["/data"]; !ok || cfg.StopSignal != "SIGINT" || cfg.Healthcheck.Retries != 2 || cfg.Healthcheck.Interval.Seconds() != 10 {
		t.Errorf("config = %+v", cfg)
	}
	if slices.Contains(cfg.Env, "ZONEINFO="+ZoneinfoPath) || findStep(t, steps, "static base (passwd, CA certificates)") == nil {
		t.Error("tzdata: false still ships time zones")
	}
	cp := findStep(t, steps, "copy image.files").GetFile().Actions[0].GetCopy()
	if cp.Src != "/static" || cp.Dest != "/srv" || cp.ModeStr != "u=rX,g=rX,o=" || cp.Owner.User.GetByID() != 1000 || cp.Owner.Group.GetByID() != 1001 {
		t.Errorf("files copy = %+v", cp)
	}

	armSteps, _ := convert(t, extrasSpec, "linux/arm64", nil)
	for _, s := range armSteps {
		if strings.HasPrefix(s.name, "static base") {
			t.Error("image.bases[linux/arm64] = scratch still has the static base")
		}
	}
}

// Each layer the frontend writes is one file op reading straight from its
// sources (the go builds, the builder image): the tree is assembled and
// stamped inside that op, not in a step of its own on the rebuild's path.
// Without SOURCE_DATE_EPOCH a go build's output is its binaries' layer
// as it stands: the image merges it with no file op at all.
func TestLayersAreOneStepEach(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	steps, _ := convert(t, testSpec, "linux/arm64", func(o *Options) { o.Epoch = &epoch })
	byDigest := stepsByDigest(steps)
	for name, wantInput := range map[string]func(*pb.Op) bool{
		"date /usr/local/bin/server (linux/arm64)":          func(op *pb.Op) bool { return op.GetExec() != nil },
		"static base (passwd, CA certificates, time zones)": func(op *pb.Op) bool { return op.GetSource() != nil },
	} {
		op := findStep(t, steps, name)
		if len(op.Inputs) == 0 {
			t.Errorf("%s has no inputs", name)
		}
		for _, in := range op.Inputs {
			if src := byDigest[digest.Digest(in.Digest)]; !wantInput(src.op) {
				t.Errorf("%s reads from %q, an intermediate step", name, src.name)
			}
		}
	}

	steps, _ = convert(t, testSpec, "linux/arm64", nil)
	byDigest = stepsByDigest(steps)
	var merged []string
	for _, in := range findStep(t, steps, "assemble image (linux/arm64)").Inputs {
		merged = append(merged, byDigest[digest.Digest(in.Digest)].name)
	}
	want := []string{"static base (passwd, CA certificates, time zones)", StepGoBuild("linux/arm64", "./cmd/server"), StepGoBuild("linux/arm64", "./cmd/worker")}
	if !slices.Equal(merged, want) {
		t.Errorf("the image merges %q, want %q", merged, want)
	}
}

// The image's labels layer, later winning: the OCI labels gobuild knows,
// the spec's image.labels, then the client's own (buildx --label).
func TestImageLabelsLayer(t *testing.T) {
	const labelled = testSpec + "  labels: {team: spec, org.opencontainers.image.version: from-spec}\n"
	for _, tc := range []struct {
		name   string
		client map[string]string
		want   map[string]string
	}{
		{"spec over gobuild's", nil, map[string]string{"team": "spec", "org.opencontainers.image.version": "from-spec"}},
		{"client over the spec", map[string]string{"team": "client"}, map[string]string{"team": "client", "org.opencontainers.image.version": "from-spec"}},
		{"client adds its own", map[string]string{"ci.job": "42"}, map[string]string{"team": "spec", "ci.job": "42"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, res := convert(t, labelled, "linux/amd64", func(o *Options) { o.Labels = tc.client })
			for k, v := range tc.want {
				if got := res.Image.Config.Labels[k]; got != v {
					t.Errorf("label %s = %q, want %q (all: %v)", k, got, v, res.Image.Config.Labels)
				}
			}
		})
	}
}

// image.zoneinfotree adds a step that unpacks the builder's zoneinfo.zip
// with the builder's go, untouched by the spec's go settings, and the
// static base copies its output; without it there is no such step.
func TestZoneinfoTree(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		want bool
	}{
		{"default", testSpec, false},
		{"zoneinfotree", testSpec + "  zoneinfotree: true\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, _ := convert(t, tc.spec, "linux/arm64", nil)
			var unpack *pb.ExecOp
			for _, s := range steps {
				if s.name == StepZoneinfoTree {
					unpack = s.op.GetExec()
				}
			}
			if (unpack != nil) != tc.want {
				t.Fatalf("unpack step present = %v, want %v", unpack != nil, tc.want)
			}
			base := findStep(t, steps, "static base (passwd, CA certificates, time zones"+map[bool]string{true: ", zoneinfo tree"}[tc.want]+")")
			if !tc.want {
				return
			}
			args := unpack.Meta.Args
			if len(args) != 5 || args[0] != "go" || args[1] != "run" || args[3] != "/usr/local/go/lib/time/zoneinfo.zip" {
				t.Errorf("unpack args = %q", args)
			}
			if e := env(unpack); e["GOFLAGS"] != "" || e["GOTOOLCHAIN"] != "local" {
				t.Errorf("unpack env = %v: the spec's GOFLAGS reached it", e)
			}
			if base.Inputs == nil {
				t.Fatal("the static base has no inputs")
			}
		})
	}
}
