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
	if _, ok := got[modCacheDir]; ok || got[buildCache] != "gobuild-gocache" {
		t.Errorf("build cache mounts = %v, want only the build cache", got)
	}
}
