package llb

import (
	"maps"
	"slices"
	"testing"

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
	projectID := "gobuild-gocache-project-"
	for _, tc := range []struct {
		name, spec, target, step string
		test                     bool
		trusted                  bool
	}{
		{"module download", testSpec, "linux/amd64", StepModDownload, false, true},
		{"go build", testSpec, "linux/amd64", StepGoBuild("linux/amd64", "./cmd/server"), false, true},
		{"go build with cgo", withCgo, "linux/amd64", StepGoBuild("linux/amd64", "./cmd/server"), false, false},
		{"go test", cgoSpec, "linux/amd64", stepGoCheck("test", "linux/amd64", "./..."), true, false},
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
			_, sharedModules := caches["gobuild-gomodcache"]
			_, sharedBuild := caches["gobuild-gocache"]
			if tc.trusted {
				if !sharedModules {
					t.Errorf("a trusted step without the shared module cache: %v", slices.Sorted(maps.Keys(caches)))
				}
				if got := env(exec)["GOMODCACHE"]; got != "/go/pkg/mod/p-0123456789abcdef0123456789abcdef" {
					t.Errorf("GOMODCACHE = %q, want the build's partition", got)
				}
				return
			}
			if sharedModules || sharedBuild {
				t.Errorf("the user's code mounts a shared cache: %v", slices.Sorted(maps.Keys(caches)))
			}
			var own bool
			for id := range caches {
				own = own || (len(id) > len(projectID) && id[:len(projectID)] == projectID)
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
// credentials, and the copy for the user's code reads the shared cache
// without writing it, from the build's partition.
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
	if e := env(name); e["GOFLAGS"] != "-mod=readonly" {
		t.Errorf("the partition step's env %v lacks the spec's module settings", e)
	}

	cp := findStep(t, convertTarget(t, testSpec, Test, nil), StepModCopy).GetExec()
	for _, m := range cp.Mounts {
		if m.MountType == pb.MountType_CACHE && !m.Readonly {
			t.Errorf("the copy writes the cache %s", m.CacheOpt.ID)
		}
		if m.MountType == pb.MountType_SECRET || m.MountType == pb.MountType_SSH {
			t.Error("the copy has credentials")
		}
	}
	if got := env(cp)["GOPROXY"]; got != "file:///go/pkg/mod/shared/cache/download" {
		t.Errorf("the copy's GOPROXY = %q, want the shared partition", got)
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
	a := projectCacheID(s, Options{ModulePath: "example.com/a"})
	b := projectCacheID(s, Options{ModulePath: "example.com/b"})
	if a == b || a == "gobuild-gocache" {
		t.Errorf("project caches %q and %q", a, b)
	}
}
