package llb

import (
	"maps"
	"slices"
	"strings"
	"testing"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// Which caches each kind of step may write: the shared ones only for steps
// that run no code of the user's; those get a copy of the modules and
// their project's build cache.
func TestSharedCachesOnlyForTrustedSteps(t *testing.T) {
	const cgoSpec = testSpec + "test:\n  packages: [./...]\n"
	withCgo := "version: 1\nbinaries:\n  - package: ./cmd/server\n    cgo: true\n    ldflags: [-linkmode=external, -extldflags=-static]\n"
	project := func(o *Options) {
		o.ModulePath = "example.com/victim"
		o.ModulePartition = "p-0123456789abcdef0123456789abcdef"
	}
	for _, tc := range []struct {
		name, spec, target, step string
		test                     bool
		trusted                  bool
		own                      string // the project cache's kind
	}{
		{"module download", testSpec, "linux/amd64", StepModDownload, false, true, ""},
		{"go build", testSpec, "linux/amd64", StepGoBuild("linux/amd64", "./cmd/server"), false, true, ""},
		{"go build with cgo", withCgo, "linux/amd64", StepGoBuild("linux/amd64", "./cmd/server"), false, false, "gobuild-gocache-cgo-"},
		{"go test", cgoSpec, "linux/amd64", stepGoCheck("test", "linux/amd64", "./..."), true, false, "gobuild-gocache-test-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var steps []step
			if tc.test {
				steps = convertTarget(t, tc.spec, Test, project)
			} else {
				steps, _ = convert(t, tc.spec, tc.target, project)
			}
			exec := findStep(t, steps, tc.step).GetExec()
			caches := map[string]*pb.Mount{}
			for _, m := range exec.Mounts {
				if m.MountType == pb.MountType_CACHE {
					caches[m.CacheOpt.ID] = m
				}
			}
			var sharedModules, sharedBuild string
			for id := range caches {
				if strings.HasPrefix(id, "gobuild-gomodcache-") {
					sharedModules = id
				}
				if strings.HasPrefix(id, "gobuild-gocache-p-") || strings.HasPrefix(id, "gobuild-gocache-shared-") {
					sharedBuild = id
				}
			}
			if tc.trusted {
				if !strings.HasPrefix(sharedModules, "gobuild-gomodcache-p-0123456789abcdef0123456789abcdef-") {
					t.Errorf("a trusted step without its partition's module cache: %v", slices.Sorted(maps.Keys(caches)))
				}
				if tc.step != StepModDownload && !strings.HasPrefix(sharedBuild, "gobuild-gocache-p-0123456789abcdef0123456789abcdef-") {
					t.Errorf("a trusted go build without its partition's build cache: %v", slices.Sorted(maps.Keys(caches)))
				}
				return
			}
			if sharedModules != "" || sharedBuild != "" {
				t.Errorf("the user's code mounts a shared cache: %v", slices.Sorted(maps.Keys(caches)))
			}
			var own bool
			for id := range caches {
				own = own || strings.HasPrefix(id, tc.own)
			}
			if !own {
				t.Errorf("no project build cache: %v", slices.Sorted(maps.Keys(caches)))
			}
			for _, m := range exec.Mounts {
				if m.Dest == modCacheDir && (m.MountType != pb.MountType_BIND || m.Readonly) {
					t.Errorf("modules mounted as %v (readonly %v), want a writable copy", m.MountType, m.Readonly)
				}
			}
		})
	}
}

// The partition's name is computed on every build, with the client's
// credentials, and the copy for the user's code reads the partition's
// cache without writing it.
func TestPartitionAndCopySteps(t *testing.T) {
	s, opt := testInput(t, testSpec, "linux/amd64", nil)
	st, err := Partition(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	var name *pb.ExecOp
	for _, st := range marshalSteps(t, st, opt) {
		if st.name == StepModcachePartition {
			name = st.op.GetExec()
			if !st.ignoreCache {
				t.Error("the partition step may be cached: a build with other credentials would get another's name")
			}
		}
	}
	if name == nil {
		t.Fatal("no partition step")
	}
	var secret, ssh bool
	for _, m := range name.Mounts {
		secret = secret || m.MountType == pb.MountType_SECRET
		ssh = ssh || m.MountType == pb.MountType_SSH
	}
	if !secret || !ssh {
		t.Errorf("the partition step sees the netrc secret %v, the SSH agent %v; want both", secret, ssh)
	}
	// The helper is given the settings SharedUnlessCredentials reads.
	if want := append([]string{helperBinary, "id", "/gobuild/partition" + PartitionFile}, partitionSettings...); !slices.Equal(name.Meta.Args, want) {
		t.Errorf("the partition step runs %q, want %q", name.Meta.Args, want)
	}
	if e := env(name); e["GOFLAGS"] != "-mod=readonly" {
		t.Errorf("the partition step's env %v lacks the spec's module settings", e)
	}

	cp := findStep(t, convertTarget(t, testSpec, Test, nil), StepModCopy).GetExec()
	for _, m := range cp.Mounts {
		if m.MountType == pb.MountType_CACHE && !m.Readonly {
			t.Errorf("the copy writes the cache %s", m.CacheOpt.ID)
		}
	}
	if got := env(cp)["GOPROXY"]; got != "file:///gobuild/partition/cache/download,https://proxy.golang.org,direct" {
		t.Errorf("the copy's GOPROXY = %q, want the partition, then Go's default", got)
	}
}

// Only names the helper writes become paths in the module cache.
func TestCheckPartition(t *testing.T) {
	for name, ok := range map[string]bool{
		"shared": true, "p-0123456789abcdef0123456789abcdef": true,
		"": false, "../x": false, "p-0123": false, "shared\n": false, "p-0123456789ABCDEF0123456789abcdef": false,
	} {
		if err := CheckPartition(name); (err == nil) != ok {
			t.Errorf("CheckPartition(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// Two projects never share the build cache their code writes.
func TestProjectCacheIDs(t *testing.T) {
	s := parseFilled(t, testSpec)
	ids := map[string]bool{}
	for _, path := range []string{"example.com/a", "example.com/b"} {
		for _, kind := range []string{"test", "cgo"} {
			ids[projectCacheID(s, Options{ModulePath: path}, kind)] = true
		}
	}
	if len(ids) != 4 {
		t.Errorf("project caches %v, want four", ids)
	}
}

// Shared caches are per partition and per builder image: another's code
// or another builder image's go never reaches them.
func TestSharedCacheIDs(t *testing.T) {
	base := Options{Builder: bkllb.Image("golang:1.26")}
	other := base
	other.ModulePartition = "p-0123456789abcdef0123456789abcdef"
	evil := base
	evil.Builder = bkllb.Image("example.com/evil/golang:1.26")
	ids := map[string]bool{}
	for _, opt := range []Options{base, other, evil} {
		ids[opt.sharedCacheID("gobuild-gomodcache")] = true
	}
	again := Options{Builder: bkllb.Image("golang:1.26")}
	if len(ids) != 3 || again.sharedCacheID("gobuild-gomodcache") != base.sharedCacheID("gobuild-gomodcache") {
		t.Errorf("shared cache ids %v, want three, the same for the same builder", ids)
	}
}

// The partition is named from the settings rendered for the build
// platform, so no target platform may fetch with others.
func TestPartitionSettingsSameOnEveryPlatform(t *testing.T) {
	const head = "version: 1\nbinaries:\n  - package: ./cmd/server\n"
	for _, tc := range []struct {
		name, spec, target string
		wantErr            string
	}{
		{"GOSUMDB off for arm64 only", head + "env: {GOSUMDB: '{{if eq .Target.Arch \"arm64\"}}off{{end}}'}\n", "linux/arm64",
			"gobuild.yaml:4:16: GOSUMDB is \"off\" for linux/arm64 but \"\" for the build platform linux/amd64"},
		{"the same on the build platform's arch", head + "env: {GOSUMDB: '{{if eq .Target.Arch \"arm64\"}}off{{end}}'}\n", "linux/amd64", ""},
		{"goproxy per arch", head + "goproxy: 'https://{{.Target.Arch}}.proxy.example'\n", "linux/arm64",
			"gobuild.yaml:4:10: GOPROXY is \"https://arm64.proxy.example\" for linux/arm64"},
		{"goproxy from a build-arg", head + "goproxy: '{{.Args.PROXY}}'\n", "linux/arm64", ""},
		{"another variable may read the target", head + "env: {CGO_CFLAGS: '-D{{.Target.Arch}}'}\n", "linux/arm64", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, opt := testInput(t, tc.spec, tc.target, func(o *Options) { o.Args = map[string]string{"PROXY": "https://proxy.example"} })
			_, err := Binaries(s, opt)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Binaries: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Binaries: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
