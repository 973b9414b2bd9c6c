package llb

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

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

func TestCrossCompileEnv(t *testing.T) {
	cases := []struct {
		target string
		want   map[string]string
		absent []string
	}{
		{"linux/amd64", map[string]string{"GOOS": "linux", "GOARCH": "amd64"}, []string{"GOAMD64", "GOARM"}},
		{"linux/amd64/v3", map[string]string{"GOARCH": "amd64", "GOAMD64": "v3"}, nil},
		{"linux/arm64", map[string]string{"GOARCH": "arm64"}, []string{"GOARM", "GOARM64"}},
		{"linux/arm/v7", map[string]string{"GOARCH": "arm", "GOARM": "7"}, nil},
		{"linux/arm/v6", map[string]string{"GOARCH": "arm", "GOARM": "6"}, nil},
		{"linux/ppc64le", map[string]string{"GOARCH": "ppc64le"}, nil},
		{"linux/riscv64", map[string]string{"GOARCH": "riscv64"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			steps, _ := convert(t, testSpec, tc.target, nil)
			name := "go build ./cmd/server (" + platforms.Format(platforms.Normalize(platforms.MustParse(tc.target))) + ")"
			op := findStep(t, steps, name)
			// The toolchain runs on the build platform whatever the target.
			if op.Platform.Architecture != "amd64" {
				t.Errorf("go build runs on %s, want the build platform", op.Platform.Architecture)
			}
			e := env(op.GetExec())
			want := map[string]string{"CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}
			for k, v := range tc.want {
				want[k] = v
			}
			for k, v := range want {
				if e[k] != v {
					t.Errorf("%s=%q, want %q", k, e[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := e[k]; ok {
					t.Errorf("%s is set", k)
				}
			}
		})
	}
}

func TestGoBuildArgs(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/arm/v7", nil)
	exec := findStep(t, steps, "go build ./cmd/server (linux/arm/v7)").GetExec()
	want := []string{"go", "build", "-trimpath", "-buildvcs=false", "-tags", "netgo,osusergo",
		"-ldflags", "-s -w -X main.version=v1.2.3 -X main.arch=armv7", "-o", "/out/server", "./cmd/server"}
	if !slices.Equal(exec.Meta.Args, want) {
		t.Errorf("args:\n got %q\nwant %q", exec.Meta.Args, want)
	}
	if exec.Meta.Cwd != "/src" {
		t.Errorf("cwd = %q", exec.Meta.Cwd)
	}
	if got := cacheMounts(exec); got[modCacheDir] != "gobuild-gomodcache" || got[buildCache] != "gobuild-gocache" {
		t.Errorf("cache mounts = %v", got)
	}
	for _, m := range exec.Mounts {
		if m.Dest == "/src" && !m.Readonly {
			t.Error("the source is mounted writable")
		}
	}
}

// TestDownloadSeesOnlyModuleFiles guards the cache promise: the download
// step's only view of the context is go.mod, go.sum and workspace files.
func TestDownloadSeesOnlyModuleFiles(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/amd64", func(o *Options) { o.CacheNamespace = "ns-" })
	exec := findStep(t, steps, "go mod download").GetExec()
	if !slices.Equal(exec.Meta.Args, []string{"go", "mod", "download"}) {
		t.Errorf("args = %q", exec.Meta.Args)
	}
	if got := cacheMounts(exec); got[modCacheDir] != "ns-gobuild-gomodcache" {
		t.Errorf("cache mounts = %v, want the namespaced module cache", got)
	}
	copyOp := findStep(t, steps, "[internal] copy go.mod and go.sum").GetFile()
	cp := copyOp.Actions[0].GetCopy()
	if cp == nil || !slices.Contains(cp.IncludePatterns, "go.mod") || !slices.Contains(cp.IncludePatterns, "go.sum") {
		t.Fatalf("copy = %v", cp)
	}
	for _, p := range cp.IncludePatterns {
		if !strings.Contains(p, "go.") {
			t.Errorf("include pattern %q lets more than module files in", p)
		}
	}
}

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
	if !img.Created.Equal(epoch) || len(img.History) != 2 || !img.History[1].Created.Equal(epoch) {
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
	if len(res.Image.History) != 1 || slices.Contains(res.Image.Config.Env, "ZONEINFO="+ZoneinfoPath) {
		t.Errorf("history = %d entries, env = %q", len(res.Image.History), res.Image.Config.Env)
	}
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

func TestBuildOptions(t *testing.T) {
	const optsSpec = `version: 1
goproxy: "{{.Args.PROXY}},direct"
goexperiment: greenteagc
binaries:
  - package: ./cmd/server
    strip: false
    trimpath: false
    buildvcs: true
    gcflags: [-N, -l]
    flags: [-pgo=auto, -a]
    env: {EXTRA: "{{.Target.Arch}}"}
  - package: ./cmd/amd64only
    platforms: [linux/amd64]
`
	steps, _ := convert(t, optsSpec, "linux/arm64", func(o *Options) { o.Args = map[string]string{"PROXY": "https://proxy.example"} })
	exec := findStep(t, steps, "go build ./cmd/server (linux/arm64)").GetExec()
	want := []string{"go", "build", "-buildvcs=true", "-gcflags", "-N -l", "-pgo=auto", "-a", "-o", "/out/server", "./cmd/server"}
	if !slices.Equal(exec.Meta.Args, want) {
		t.Errorf("args:\n got %q\nwant %q", exec.Meta.Args, want)
	}
	e := env(exec)
	if e["GOPROXY"] != "https://proxy.example,direct" || e["GOEXPERIMENT"] != "greenteagc" || e["EXTRA"] != "arm64" {
		t.Errorf("env = %v", e)
	}
	for _, s := range steps {
		if strings.Contains(s.name, "amd64only") {
			t.Errorf("step %q runs for arm64, outside the binary's platforms", s.name)
		}
	}
}

// TestCredentialsAreMountsNotFiles: the netrc secret and the SSH agent are
// mounts that BuildKit keeps out of layers and cache keys; optional, so a
// build without them still runs.
func TestCredentialsAreMountsNotFiles(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/amd64", nil)
	for _, name := range []string{"go mod download", "go build ./cmd/server (linux/amd64)"} {
		exec := findStep(t, steps, name).GetExec()
		var secret, ssh bool
		for _, m := range exec.Mounts {
			switch m.MountType {
			case pb.MountType_SECRET:
				secret = m.SecretOpt.ID == NetrcSecretID && m.SecretOpt.Optional && m.Dest == netrcPath
			case pb.MountType_SSH:
				ssh = m.SSHOpt.Optional
			}
		}
		if !secret || !ssh || env(exec)["NETRC"] != netrcPath {
			t.Errorf("%s: secret=%v ssh=%v env=%v", name, secret, ssh, env(exec))
		}
	}
}

func TestCgoOnlyForBuildPlatform(t *testing.T) {
	const cgoSpec = "version: 1\nbinaries:\n  - package: ./cmd/c\n    cgo: true\nimage:\n  base: gcr.io/distroless/base-debian12\n"
	steps, _ := convert(t, cgoSpec, "linux/amd64", func(o *Options) { base := bkllb.Image("base"); o.Base = &base })
	if e := env(findStep(t, steps, "go build ./cmd/c (linux/amd64)").GetExec()); e["CGO_ENABLED"] != "1" {
		t.Errorf("CGO_ENABLED = %q", e["CGO_ENABLED"])
	}
	s, err := spec.Parse("gobuild.yaml", []byte(cgoSpec))
	if err != nil {
		t.Fatal(err)
	}
	base := bkllb.Image("base")
	_, err = Convert(context.Background(), s, Options{
		BuildPlatform:  platforms.MustParse("linux/amd64"),
		TargetPlatform: platforms.MustParse("linux/arm64"),
		Builder:        bkllb.Image("golang:1.26"),
		Base:           &base,
	})
	if err == nil || !strings.Contains(err.Error(), "gobuild.yaml:4:10: binaries[0] uses cgo, which builds only for the build platform linux/amd64, not linux/arm64") {
		t.Errorf("error = %v", err)
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
	if cp.Src != "/static" || cp.Dest != "/srv" || cp.Mode != 0o440 || cp.Owner.User.GetByID() != 1000 || cp.Owner.Group.GetByID() != 1001 {
		t.Errorf("files copy = %+v", cp)
	}

	armSteps, _ := convert(t, extrasSpec, "linux/arm64", nil)
	for _, s := range armSteps {
		if strings.HasPrefix(s.name, "static base") {
			t.Error("image.bases[linux/arm64] = scratch still has the static base")
		}
	}
}

func TestBuildSeesOnlyGoSources(t *testing.T) {
	steps, _ := convert(t, "version: 1\nbinaries:\n  - package: ./cmd/server\n    flags: [-pgo=profiles/cpu.pprof]\n", "linux/amd64", func(o *Options) {
		o.Sources = &SourceSet{Embeds: []string{"cmd/server/static"}}
	})
	cp := findStep(t, steps, "[internal] select the files go build reads").GetFile().Actions[0].GetCopy()
	for _, want := range []string{"**/*.go", "**/go.sum", "**/vendor/**", "cmd/server/static", "cmd/server/static/**", "profiles/cpu.pprof"} {
		if !slices.Contains(cp.IncludePatterns, want) {
			t.Errorf("include patterns %q lack %q", cp.IncludePatterns, want)
		}
	}
	if slices.Contains(cp.IncludePatterns, ".git/**") {
		t.Error(".git reaches go build, which stamps no VCS data")
	}

	// Without a source set (the frontend could not read the directives),
	// the build sees the context as it is.
	steps, _ = convert(t, testSpec, "linux/amd64", nil)
	for _, s := range steps {
		if s.name == "[internal] select the files go build reads" {
			t.Error("the context was narrowed without a source set")
		}
	}
}

// TestModuleCacheLayer: in layer mode the modules are a layer the build
// mounts, not a cache mount, so a registry cache can carry them.
func TestModuleCacheLayer(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/arm64", func(o *Options) { o.ModuleCache = ModuleCacheLayer })
	dl := findStep(t, steps, "go mod download (into a layer)").GetExec()
	if _, ok := cacheMounts(dl)[modCacheDir]; ok {
		t.Error("the download writes to a cache mount")
	}
	var output bool
	for _, m := range dl.Mounts {
		output = output || (m.Dest == modCacheDir && m.Output >= 0 && m.MountType == pb.MountType_BIND)
	}
	if !output {
		t.Error("the download does not output the module cache as a layer")
	}
	build := findStep(t, steps, "go build ./cmd/server (linux/arm64)").GetExec()
	got := cacheMounts(build)
	if _, ok := got[modCacheDir]; ok || got[buildCache] != "gobuild-gocache" {
		t.Errorf("build cache mounts = %v, want only the build cache", got)
	}
}

// TestBinariesSharingSettingsBuildTogether: binaries with the same flags and
// environment share one go build; any difference, or an executable name go
// would give twice, keeps a binary on its own.
func TestBinariesSharingSettingsBuildTogether(t *testing.T) {
	const specText = `version: 1
binaries:
  - package: ./cmd/api
  - package: ./cmd/admin
    name: adm
  - package: ./tools/api
    name: api-tool
  - package: ./cmd/tagged
    tags: [netgo]
  - package: ./cmd/env
    env: {GOAMD64: v3}
  - package: ./cmd/v2
  - package: .
    name: root
`
	steps, _ := convert(t, specText, "linux/amd64", nil)
	builds := map[string][]string{}
	for _, s := range steps {
		if strings.HasPrefix(s.name, "go build ") {
			builds[s.name] = s.op.GetExec().Meta.Args
		}
	}
	common := []string{"go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w"}
	want := map[string][]string{
		"go build ./cmd/api ./cmd/admin (linux/amd64)": append(slices.Clone(common), "-o", "/out/", "./cmd/api", "./cmd/admin"),
		"go build ./tools/api (linux/amd64)":           append(slices.Clone(common), "-o", "/out/api-tool", "./tools/api"),
		"go build ./cmd/tagged (linux/amd64)":          {"go", "build", "-trimpath", "-buildvcs=false", "-tags", "netgo", "-ldflags", "-s -w", "-o", "/out/tagged", "./cmd/tagged"},
		"go build ./cmd/env (linux/amd64)":             append(slices.Clone(common), "-o", "/out/env", "./cmd/env"),
		"go build ./cmd/v2 (linux/amd64)":              append(slices.Clone(common), "-o", "/out/v2", "./cmd/v2"),
		"go build . (linux/amd64)":                     append(slices.Clone(common), "-o", "/out/root", "."),
	}
	if len(builds) != len(want) {
		t.Errorf("go build steps = %q, want %d of them", slices.Sorted(maps.Keys(builds)), len(want))
	}
	for name, args := range want {
		if got, ok := builds[name]; !ok {
			t.Errorf("no step %q", name)
		} else if !slices.Equal(got, args) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, args)
		}
	}

	// The image takes each executable from where go wrote it, under the
	// binary's own name.
	collect := findStep(t, steps, "copy binaries (linux/amd64)").GetFile()
	copies := map[string]string{}
	for _, a := range collect.Actions {
		if cp := a.GetCopy(); cp != nil {
			copies[cp.Dest] = cp.Src
		}
	}
	for dest, src := range map[string]string{
		"/usr/local/bin/api": "/api", "/usr/local/bin/adm": "/admin", "/usr/local/bin/api-tool": "/api-tool", "/usr/local/bin/root": "/root",
	} {
		if copies[dest] != src {
			t.Errorf("%s copied from %q, want %q", dest, copies[dest], src)
		}
	}
}

// Each layer the frontend writes is one file op reading straight from its
// sources (the go builds, the builder image): the tree is assembled and
// stamped inside that op, not in a step of its own on the rebuild's path.
func TestLayersAreOneStepEach(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/arm64", nil)
	byDigest := map[digest.Digest]step{}
	for _, s := range steps {
		byDigest[digest.FromBytes(s.raw)] = s
	}
	for name, wantInput := range map[string]func(*pb.Op) bool{
		"copy binaries (linux/arm64)":                       func(op *pb.Op) bool { return op.GetExec() != nil },
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
}
