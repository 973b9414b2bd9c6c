package llb

import (
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// ModuleCache says how the module cache reaches go build.
type ModuleCache string

const (
	// ModuleCacheMount keeps modules in a persistent cache mount: on a
	// builder that lives on, a go.mod change downloads only the new
	// modules. Cache mounts are not exported with --cache-to.
	ModuleCacheMount ModuleCache = "mount"
	// ModuleCacheLayer downloads into a layer keyed on go.mod and go.sum,
	// which --cache-to type=registry,mode=max exports: an ephemeral CI
	// builder gets every module from the registry cache instead of the
	// network, but a go.mod change downloads them all again.
	ModuleCacheLayer ModuleCache = "layer"
)

// moduleFiles is what go mod download may see of the context: go.mod, go.sum
// and workspace files, so that a source change never invalidates it.
func moduleFiles(s *spec.Spec, opt Options) bkllb.State {
	return bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/"+s.Module+"/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     []string{"go.mod", "go.sum", "go.work", "go.work.sum", "**/go.mod", "**/go.sum"},
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName(StepCopyModuleFiles),
	)
}

// download fetches the module's dependencies, with the go settings of s
// rendered. It returns the state the
// go commands run on and the mount that gives them the modules.
func download(s *spec.Spec, opt Options) (bkllb.State, bkllb.RunOption) {
	env := goCommandEnv(s, nil)
	runOpts := []bkllb.RunOption{
		bkllb.Args([]string{"go", "mod", "download"}),
		credentials(),
		bkllb.Dir(srcDir),
		bkllb.AddMount(srcDir, moduleFiles(s, opt)),
		location(s, opt, "go"),
	}
	if opt.ModuleCache == ModuleCacheLayer {
		run := opt.Builder.Run(append(runOpts, append(env, bkllb.WithCustomName(StepModDownloadToLayer))...)...)
		modules := run.AddMount(modCacheDir, bkllb.Scratch())
		// Writable, so that go may take its locks; the writes are dropped.
		return opt.Builder, bkllb.AddMount(modCacheDir, modules)
	}
	modCache := cacheMount(opt, modCacheDir, "gobuild-gomodcache")
	run := opt.Builder.Run(append(runOpts, append(env, modCache, bkllb.WithCustomName(StepModDownload))...)...)
	return run.Root(), modCache
}
