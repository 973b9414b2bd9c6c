package llb

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

// TestDownloadSeesOnlyModuleFiles guards the cache promise: the download
// step's only view of the context is go.mod, go.sum and workspace files.
func TestDownloadSeesOnlyModuleFiles(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/amd64", func(o *Options) { o.CacheNamespace = "ns-" })
	exec := findStep(t, steps, StepModDownload).GetExec()
	if !slices.Equal(exec.Meta.Args, []string{"go", "mod", "download"}) {
		t.Errorf("args = %q", exec.Meta.Args)
	}
	if got := cacheMounts(exec); !strings.HasPrefix(got[modCacheDir], "ns-gobuild-gomodcache-shared-") {
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

// TestModuleCacheLayer: in layer mode the modules are a layer the build
// mounts, not a cache mount, so a registry cache can carry them.
func TestModuleCacheLayer(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/arm64", func(o *Options) { o.ModuleCache = ModuleCacheLayer })
	dl := findStep(t, steps, StepModDownloadToLayer).GetExec()
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
	build := findStep(t, steps, StepGoBuild("linux/arm64", "./cmd/server")).GetExec()
	got := cacheMounts(build)
	if _, ok := got[modCacheDir]; ok || !strings.HasPrefix(got[buildCache], "gobuild-gocache-shared-") {
		t.Errorf("build cache mounts = %v, want only the build cache", got)
	}
}

// TestModuleFilesLayout: what go mod download sees of the context and
// where it runs. A module on its own is copied to the root as before; one
// whose go.mod or go.work names other directories keeps the context's
// layout, so that ../../lib is where go.mod says, yet still sees module
// files alone. Vendored modules and workspaces whose module requires
// nothing have no download step.
func TestModuleFilesLayout(t *testing.T) {
	const api = "version: 1\nmodule: ./services/api\nbinaries:\n  - package: ./cmd/api\n"
	cases := []struct {
		name    string
		spec    string
		modules ModuleFiles
		// src and include are the copy's, dir and args the download's; a
		// nil args means no download step.
		src     string
		include []string
		dir     string
		args    []string
	}{{
		name:    "module alone",
		spec:    api,
		src:     "/services/api",
		include: moduleFilePatterns,
		dir:     "/src",
		args:    []string{"go", "mod", "download"},
	}, {
		name:    "replace outside the module",
		spec:    api,
		modules: ModuleFiles{Dirs: []string{"lib", "proto"}},
		src:     "/",
		include: []string{"lib/go.mod", "lib/go.sum", "proto/go.mod", "proto/go.sum", "services/api/**/go.mod", "services/api/**/go.sum", "services/api/go.mod", "services/api/go.sum"},
		dir:     "/src/services/api",
		args:    []string{"go", "mod", "download"},
	}, {
		name:    "workspace above the module",
		spec:    api,
		modules: ModuleFiles{Workspace: ".", Dirs: []string{"lib"}, Requires: []string{"example.com/lib", "golang.org/x/text"}},
		src:     "/",
		include: []string{"go.work", "go.work.sum", "lib/go.mod", "lib/go.sum", "services/api/**/go.mod", "services/api/**/go.sum", "services/api/go.mod", "services/api/go.sum"},
		dir:     "/src/services/api",
		args:    []string{"go", "mod", "download", "example.com/lib", "golang.org/x/text"},
	}, {
		name:    "workspace at the module root",
		spec:    "version: 1\nbinaries:\n  - package: ./cmd/app\n",
		modules: ModuleFiles{Workspace: ".", Dirs: []string{"other"}, Requires: []string{"example.com/alpha"}},
		src:     "/",
		include: []string{"**/go.mod", "**/go.sum", "go.mod", "go.sum", "go.work", "go.work.sum", "other/go.mod", "other/go.sum"},
		dir:     "/src",
		args:    []string{"go", "mod", "download", "example.com/alpha"},
	}, {
		name:    "workspace, nothing required",
		spec:    api,
		modules: ModuleFiles{Workspace: ".", Dirs: []string{"lib"}},
	}, {
		name:    "vendored",
		spec:    api,
		modules: ModuleFiles{Vendor: true},
	}, {
		name:    "vendored, goflags -mod=mod",
		spec:    "version: 1\nmodule: ./services/api\ngoflags: -mod=mod\nbinaries:\n  - package: ./cmd/api\n",
		modules: ModuleFiles{Vendor: true},
		src:     "/services/api",
		include: moduleFilePatterns,
		dir:     "/src",
		args:    []string{"go", "mod", "download"},
	}, {
		name:    "vendored, a binary's -mod=readonly",
		spec:    "version: 1\nmodule: ./services/api\nbinaries:\n  - package: ./cmd/api\n    flags: [-mod=readonly]\n",
		modules: ModuleFiles{Vendor: true},
		src:     "/services/api",
		include: moduleFilePatterns,
		dir:     "/src",
		args:    []string{"go", "mod", "download"},
	}, {
		name:    "vendored, -mod=vendor said again",
		spec:    "version: 1\nmodule: ./services/api\ngoflags: -mod=vendor\nbinaries:\n  - package: ./cmd/api\n",
		modules: ModuleFiles{Vendor: true},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps, _ := convert(t, c.spec, "linux/amd64", func(o *Options) { o.Modules = c.modules })
			var dl, cp *pb.Op
			for _, s := range steps {
				switch s.name {
				case StepModDownload:
					dl = s.op
				case StepCopyModuleFiles:
					cp = s.op
				}
			}
			if c.args == nil {
				if dl != nil || cp != nil {
					t.Fatalf("a download step runs: %v", dl.GetExec().GetMeta().GetArgs())
				}
				return
			}
			if dl == nil || cp == nil {
				t.Fatal("no download step")
			}
			meta := dl.GetExec().Meta
			if !slices.Equal(meta.Args, c.args) || meta.Cwd != c.dir {
				t.Errorf("download runs %q in %s, want %q in %s", meta.Args, meta.Cwd, c.args, c.dir)
			}
			copy := cp.GetFile().Actions[0].GetCopy()
			if copy.Src != c.src || !slices.Equal(copy.IncludePatterns, c.include) {
				t.Errorf("copy of %s with %q, want %s with %q", copy.Src, copy.IncludePatterns, c.src, c.include)
			}
		})
	}
}

// TestVendoredBuildHasNoModuleCache: a vendored build mounts an empty
// module cache, not the shared cache mount, in either cache mode.
func TestVendoredBuildHasNoModuleCache(t *testing.T) {
	const vendored = "version: 1\nbinaries:\n  - package: ./cmd/server\n"
	for _, mode := range []ModuleCache{ModuleCacheMount, ModuleCacheLayer} {
		steps, _ := convert(t, vendored, "linux/amd64", func(o *Options) {
			o.Modules = ModuleFiles{Vendor: true}
			o.ModuleCache = mode
		})
		build := findStep(t, steps, StepGoBuild("linux/amd64", "./cmd/server")).GetExec()
		if _, ok := cacheMounts(build)[modCacheDir]; ok {
			t.Errorf("%s: go build mounts the module cache", mode)
		}
		var mounted bool
		for _, m := range build.Mounts {
			mounted = mounted || (m.Dest == modCacheDir && m.Input == -1)
		}
		if !mounted {
			t.Errorf("%s: go build has no empty module cache", mode)
		}
	}
}
