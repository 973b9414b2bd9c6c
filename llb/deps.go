package llb

import (
	_ "embed"
	"path"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// BuildKit never exports cache mounts, so a builder that starts empty
// (hosted CI fed by --cache-from) would compile the standard library and
// every dependency again after any edit. The dependency layer is their
// compiled form: a step keyed only on what decides it (the module files,
// the packages imported from outside the module, the builder, the flags,
// the platform) compiles them into the persistent build cache and copies
// exactly those entries into its output, a layer that --cache-to carries.
// go build copies the layer's entries into its cache where they are
// missing, then compiles only the module's own packages.

//go:embed helper/gocache.go
var gocacheHelperSource []byte

// DependencyCache says whether the compiled dependencies travel as a layer.
type DependencyCache string

const (
	// DependencyCacheLayer (the default) compiles the dependencies in a
	// step of their own whose output layer a registry cache exports.
	DependencyCacheLayer DependencyCache = "layer"
	// DependencyCacheMount leaves them in the builder's cache mount only,
	// as a hand-written Dockerfile does.
	DependencyCacheMount DependencyCache = "mount"
)

const (
	gocacheHelperDir = "/gobuild/bin"
	gocacheHelper    = gocacheHelperDir + "/gocache"
	dependencyDir    = "/gobuild/deps"
	packageListDir   = "/gobuild/packages"
)

// dependencies is the layer of the compiled packages from outside the
// module that the go build of group imports, for the platform; false when
// none is made: cgo builds, -a (which compiles everything anyway), or
// nothing imported.
func (p *platformBuild) dependencies(group []int, env map[string]string) (bkllb.State, bool) {
	s, opt := p.s, p.opt
	b := s.Binaries[group[0]]
	if opt.Imports == nil || opt.DependencyCache == DependencyCacheMount || b.Cgo || opt.ModulePath == "" || slices.Contains(b.Flags, "-a") {
		return bkllb.State{}, false
	}
	var patterns []string
	for _, i := range group {
		patterns = append(patterns, s.Binaries[i].Package)
	}
	packages := opt.Imports.outside(opt.ModulePath, s.Module, patterns, p.target.OS, p.target.Architecture, b.Tags)
	if len(packages) == 0 {
		return bkllb.State{}, false
	}
	// Only the settings go reads to compile: a templated variable of the
	// spec's env (a version) must not make every commit another layer.
	depsEnv := map[string]string{}
	for k, v := range env {
		if strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_") {
			depsEnv[k] = v
		}
	}
	list := bkllb.Scratch().File(bkllb.Mkfile("/list", 0o644, []byte(strings.Join(packages, "\n")+"\n")),
		bkllb.WithCustomName("[internal] list the imported packages"))
	args := append([]string{gocacheHelper, "export", dependencyDir, path.Join(packageListDir, "list")}, compileFlags(s, group[0])...)
	run := p.modules.root.Run(append([]bkllb.RunOption{
		bkllb.Args(args),
		bkllb.Dir(path.Join(srcDir, s.Module)),
		bkllb.AddMount(srcDir, dependencyFiles(s, opt), bkllb.Readonly),
		bkllb.AddMount(gocacheHelperDir, gocacheHelperState(opt.Builder), bkllb.Readonly),
		bkllb.AddMount(packageListDir, list, bkllb.Readonly),
		p.modules.trusted,
		cacheMount(opt, buildCache, opt.sharedCacheID("gobuild-gocache")),
		bkllb.WithCustomName(StepDependencies(platforms.Format(p.target), patterns...)),
	}, envOptions(depsEnv)...)...)
	return run.AddMount(dependencyDir, bkllb.Scratch()), true
}

// compileFlags are the flags of binary i's go build that decide how its
// dependencies compile: not -o, -ldflags or -buildvcs, which only the
// link and the main package read, and not the ones that only print.
func compileFlags(s *spec.Spec, i int) []string {
	b := s.Binaries[i]
	var flags []string
	if *b.Trimpath {
		flags = append(flags, "-trimpath")
	}
	if len(b.Tags) > 0 {
		flags = append(flags, "-tags", strings.Join(b.Tags, ","))
	}
	if len(b.Gcflags) > 0 {
		flags = append(flags, "-gcflags", strings.Join(b.Gcflags, " "))
	}
	if len(b.Asmflags) > 0 {
		flags = append(flags, "-asmflags", strings.Join(b.Asmflags, " "))
	}
	for _, f := range b.Flags {
		name, _, _ := strings.Cut(f, "=")
		if name != "-v" && name != "-x" {
			flags = append(flags, f)
		}
	}
	return flags
}

// dependencyFiles is what the dependency step sees of the context: the
// module files go mod download sees, and vendor/, in the context's layout
// so that every package has the directory it has in go build.
func dependencyFiles(s *spec.Spec, opt Options) bkllb.State {
	include := moduleFilePaths(s, opt)
	for _, dir := range []string{s.Module, opt.Modules.Workspace} {
		if opt.Modules.Vendor && dir != "" {
			include = append(include, path.Join(dir, "vendor", "**"))
		}
	}
	slices.Sort(include)
	return bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     slices.Compact(include),
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName(StepCopyDependencyFiles),
	)
}

// gocacheHelperState is the helper, built by the builder's go.
func gocacheHelperState(builder bkllb.State) bkllb.State {
	return builderGo(builder, StepGocacheHelper, "gocache.go", gocacheHelperSource, gocacheHelperDir, func(program string) []string {
		return []string{"go", "build", "-trimpath", "-o", gocacheHelper, program}
	})
}

// seeded runs go build with the dependency layer copied into its cache
// first, where the cache lacks it.
func seeded(args []string, deps bkllb.State, builder bkllb.State) ([]string, []bkllb.RunOption) {
	return append([]string{gocacheHelper, "seed", dependencyDir, "--"}, args...), []bkllb.RunOption{
		bkllb.AddMount(gocacheHelperDir, gocacheHelperState(builder), bkllb.Readonly),
		bkllb.AddMount(dependencyDir, deps, bkllb.Readonly),
	}
}
