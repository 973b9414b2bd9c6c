package llb

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
)

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

// placedCommand splits a go build step's command line into the helper's
// moves (from go's output to the binary's place in the image, both in the
// output mount) and the command it runs.
func placedCommand(t *testing.T, args []string) (moves map[string]string, command []string) {
	t.Helper()
	sep := slices.Index(args, "--")
	if len(args) < 4 || !slices.Equal(args[:3], []string{helperBinary, "place", outDir}) || sep < 3 || (sep-3)%2 != 0 {
		t.Fatalf("go build runs %q, want it behind %s place %s", args, helperBinary, outDir)
	}
	moves = map[string]string{}
	for i := 3; i < sep; i += 2 {
		moves[args[i]] = args[i+1]
	}
	return moves, args[sep+1:]
}

func TestGoBuildArgs(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/arm/v7", nil)
	exec := findStep(t, steps, StepGoBuild("linux/arm/v7", "./cmd/server")).GetExec()
	want := []string{"go", "build", "-trimpath", "-buildvcs=false", "-tags", "netgo,osusergo",
		"-ldflags", "-s -w -X main.version=v1.2.3 -X main.arch=armv7", "-o", "/out/.gobuild/server", "./cmd/server"}
	moves, got := placedCommand(t, exec.Meta.Args)
	if !slices.Equal(got, want) {
		t.Errorf("args:\n got %q\nwant %q", got, want)
	}
	if want := map[string]string{".gobuild/server": "usr/local/bin/server"}; !maps.Equal(moves, want) {
		t.Errorf("moves = %v, want %v", moves, want)
	}
	if exec.Meta.Cwd != "/src" {
		t.Errorf("cwd = %q", exec.Meta.Cwd)
	}
	if got := cacheMounts(exec); !strings.HasPrefix(got[modCacheDir], "gobuild-gomodcache-shared-") || !strings.HasPrefix(got[buildCache], "gobuild-gocache-shared-") {
		t.Errorf("cache mounts = %v", got)
	}
	for _, m := range exec.Mounts {
		if m.Dest == "/src" && !m.Readonly {
			t.Error("the source is mounted writable")
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
	exec := findStep(t, steps, StepGoBuild("linux/arm64", "./cmd/server")).GetExec()
	want := []string{"go", "build", "-buildvcs=true", "-gcflags", "-N -l", "-pgo=auto", "-a", "-o", "/out/.gobuild/server", "./cmd/server"}
	if _, got := placedCommand(t, exec.Meta.Args); !slices.Equal(got, want) {
		t.Errorf("args:\n got %q\nwant %q", got, want)
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

func TestCgoOnlyForBuildPlatform(t *testing.T) {
	const cgoSpec = "version: 1\nbinaries:\n  - package: ./cmd/c\n    cgo: true\nimage:\n  base: gcr.io/distroless/base-debian12\n"
	steps, _ := convert(t, cgoSpec, "linux/amd64", func(o *Options) { base := bkllb.Image("base"); o.Base = &base })
	if e := env(findStep(t, steps, StepGoBuild("linux/amd64", "./cmd/c")).GetExec()); e["CGO_ENABLED"] != "1" {
		t.Errorf("CGO_ENABLED = %q", e["CGO_ENABLED"])
	}
	s, err := spec.Parse("gobuild.yaml", []byte(cgoSpec))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
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
    env: {GOFIPS140: latest}
  - package: ./cmd/v2
  - package: .
    name: root
`
	steps, res := convert(t, specText, "linux/amd64", nil)
	builds := map[string][]string{}
	moves := map[string]string{}
	for _, s := range steps {
		if strings.HasPrefix(s.name, "go build ") {
			placed, command := placedCommand(t, s.op.GetExec().Meta.Args)
			builds[s.name] = command
			maps.Copy(moves, placed)
		}
	}
	common := []string{"go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w"}
	want := map[string][]string{
		StepGoBuild("linux/amd64", "./cmd/api", "./cmd/admin"): append(slices.Clone(common), "-o", "/out/.gobuild/", "./cmd/api", "./cmd/admin"),
		StepGoBuild("linux/amd64", "./tools/api"):              append(slices.Clone(common), "-o", "/out/.gobuild/api-tool", "./tools/api"),
		StepGoBuild("linux/amd64", "./cmd/tagged"):             {"go", "build", "-trimpath", "-buildvcs=false", "-tags", "netgo", "-ldflags", "-s -w", "-o", "/out/.gobuild/tagged", "./cmd/tagged"},
		StepGoBuild("linux/amd64", "./cmd/env"):                append(slices.Clone(common), "-o", "/out/.gobuild/env", "./cmd/env"),
		StepGoBuild("linux/amd64", "./cmd/v2"):                 append(slices.Clone(common), "-o", "/out/.gobuild/v2", "./cmd/v2"),
		"go build . (linux/amd64)":                             append(slices.Clone(common), "-o", "/out/.gobuild/root", "."),
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

	// The helper moves each executable from where go wrote it to its
	// place in the image, under the binary's own name.
	for src, dest := range map[string]string{
		".gobuild/api": "usr/local/bin/api", ".gobuild/admin": "usr/local/bin/adm", ".gobuild/api-tool": "usr/local/bin/api-tool", ".gobuild/root": "usr/local/bin/root",
	} {
		if moves[src] != dest {
			t.Errorf("%s moved to %q, want %q", src, moves[src], dest)
		}
	}
	// A layer per go build, each with its history entry naming what it
	// holds, in the order of the binaries: OCI pairs them by position.
	var history []string
	for _, h := range res.Image.History {
		history = append(history, strings.TrimPrefix(h.CreatedBy, "gobuild: "))
	}
	wantHistory := []string{"static base", "/usr/local/bin/api /usr/local/bin/adm", "/usr/local/bin/api-tool", "/usr/local/bin/tagged",
		"/usr/local/bin/env", "/usr/local/bin/v2", "/usr/local/bin/root"}
	if !slices.Equal(history, wantHistory) {
		t.Errorf("history = %q, want %q", history, wantHistory)
	}
	byDigest := stepsByDigest(steps)
	var merged []string
	for _, in := range findStep(t, steps, "assemble image (linux/amd64)").Inputs {
		merged = append(merged, byDigest[digest.Digest(in.Digest)].name)
	}
	wantMerged := []string{"static base (passwd, CA certificates, time zones)", StepGoBuild("linux/amd64", "./cmd/api", "./cmd/admin"),
		StepGoBuild("linux/amd64", "./tools/api"), StepGoBuild("linux/amd64", "./cmd/tagged"), StepGoBuild("linux/amd64", "./cmd/env"),
		StepGoBuild("linux/amd64", "./cmd/v2"), "go build . (linux/amd64)"}
	if !slices.Equal(merged, wantMerged) {
		t.Errorf("the image merges %q, want %q", merged, wantMerged)
	}
}

// Past maxBinaryLayers go builds, the binaries share one layer, and one
// history entry names them all.
func TestManyGoBuildsShareOneLayer(t *testing.T) {
	specText := "version: 1\nbinaries:\n"
	var names []string
	for i := range maxBinaryLayers + 1 {
		// A tag of its own keeps each binary in a go build of its own.
		specText += fmt.Sprintf("  - package: ./cmd/b%d\n    tags: [t%d]\n", i, i)
		names = append(names, fmt.Sprintf("/usr/local/bin/b%d", i))
	}
	steps, res := convert(t, specText, "linux/amd64", nil)
	byDigest := stepsByDigest(steps)
	var merged []string
	for _, in := range findStep(t, steps, "assemble image (linux/amd64)").Inputs {
		merged = append(merged, byDigest[digest.Digest(in.Digest)].name)
	}
	if want := []string{"static base (passwd, CA certificates, time zones)", "copy binaries (linux/amd64)"}; !slices.Equal(merged, want) {
		t.Errorf("the image merges %q, want %q", merged, want)
	}
	copied := 0
	for _, a := range findStep(t, steps, "copy binaries (linux/amd64)").GetFile().Actions {
		if a.GetCopy() != nil {
			copied++
		}
	}
	// One copy per go build into the tree, and the tree's dated copy.
	if copied != maxBinaryLayers+2 {
		t.Errorf("the binaries' layer makes %d copies, want %d", copied, maxBinaryLayers+2)
	}
	if h := res.Image.History; len(h) != 2 || h[1].CreatedBy != "gobuild: "+strings.Join(names, " ") {
		t.Errorf("history = %+v, want the static base and one entry naming every binary", h)
	}
}

// TestGroupsKeyOnSpecEnv: binaries whose env differs in the spec build
// apart even where the rendered values happen to agree, so a group never
// depends on the platform being built.
func TestGroupsKeyOnSpecEnv(t *testing.T) {
	const specText = `version: 1
binaries:
  - package: ./cmd/a
    env: {FOO: "{{.Target.Arch}}"}
  - package: ./cmd/b
    env: {FOO: arm64}
  - package: ./cmd/c
    env: {FOO: arm64}
`
	steps, _ := convert(t, specText, "linux/arm64", nil)
	var builds []string
	for _, s := range steps {
		if strings.HasPrefix(s.name, StepGoBuildPrefix) {
			builds = append(builds, s.name)
		}
	}
	slices.Sort(builds)
	want := []string{StepGoBuild("linux/arm64", "./cmd/a"), StepGoBuild("linux/arm64", "./cmd/b", "./cmd/c")}
	if !slices.Equal(builds, want) {
		t.Errorf("go builds = %q, want %q", builds, want)
	}
}
