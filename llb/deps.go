package llb

import (
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// BuildKit never exports cache mounts, so a builder that starts empty
// (hosted CI fed by --cache-from) would compile the standard library and
// every dependency again after any edit. The dependency layers are their
// compiled form: steps keyed only on what decides them (the module files,
// the packages imported from outside the module, the builder, the flags,
// the platform) compile them into the persistent build cache and copy
// exactly those entries into their outputs, layers that --cache-to
// carries. go build copies the layers' entries into its cache where they
// are missing, then compiles only the module's own packages.
//
// A layer imported from a registry is whatever that registry holds, and
// go trusts a cache entry once it is there. So a build that imports
// caches copies layers only into its project's own build cache, never the
// one builds of other projects share (docs/design.md, "Shared builders").

// DependencyCache says which compiled dependencies travel as layers.
type DependencyCache string

const (
	// DependencyCacheAuto (the default, also the zero value) makes the
	// layers when the client imports caches: a builder fed by
	// --cache-from may have started empty, and the layers are what it
	// needs. A builder that lives on has the dependencies compiled in its
	// cache mount; there the layers' steps would cost every build their
	// cache checks and a new import a step before go build, for a cache
	// nobody imports.
	DependencyCacheAuto DependencyCache = "auto"
	// DependencyCacheLayer makes both layers on every build.
	DependencyCacheLayer DependencyCache = "layer"
	// DependencyCacheMount leaves the compiled dependencies in the
	// builder's cache mount only, as a hand-written Dockerfile does.
	DependencyCacheMount DependencyCache = "mount"
)

const (
	// The layers' directories in the steps that read or write them.
	stdLayerDir    = "/gobuild/deps/std"
	moduleLayerDir = "/gobuild/deps/modules"
)

// moduleFetchEnv are the settings that only decide how modules are
// fetched: the standard library's layer does not depend on them.
var moduleFetchEnv = []string{"GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GONOSUMCHECK", "GOSUMDB", "GOINSECURE", "GOVCS", "GOMODCACHE", "GOWORK"}

// dependencyLayers are the layers of compiled packages from outside the
// module that the go build of group copies into its cache first, each
// mounted at its directory: the standard library's, keyed on the builder,
// the flags and the platform alone (so that a go.mod change on a fresh
// builder still finds it), and the modules', keyed on the module files
// too (see DependencyCache for when). None for cgo builds, -a (which
// compiles everything anyway) or a profile (-pgo, or a default.pgo beside
// a main package), with which every package compiles apart.
func (p *platformBuild) dependencyLayers(group []int, env map[string]string) map[string]bkllb.State {
	s, opt := p.s, p.opt
	b := s.Binaries[group[0]]
	if opt.Imports == nil || !opt.dependencyLayered() || b.Cgo || opt.ModulePath == "" ||
		slices.Contains(b.Flags, "-a") || pgoProfile(b.Flags) != "" || p.defaultProfile(group, env) {
		return nil
	}
	var patterns []string
	for _, i := range group {
		patterns = append(patterns, s.Binaries[i].Package)
	}
	// Packages whose files were not read cost go build their compiles.
	imported, _ := opt.Imports.outside(opt.ModulePath, s.Module, patterns, p.target.OS, p.target.Architecture, b.Tags, matches)
	var std []string
	for _, pkg := range imported {
		if first, _, _ := strings.Cut(pkg, "/"); !strings.Contains(first, ".") {
			std = append(std, pkg)
		}
	}
	// Only the settings go reads to compile: a templated variable of the
	// spec's env (a version) must not make every commit another layer.
	goEnv := map[string]string{}
	for k, v := range env {
		if strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_") {
			goEnv[k] = v
		}
	}
	layers := map[string]bkllb.State{}
	flags := compileFlags(s, group[0])
	platform := platforms.Format(p.target)
	if len(std) > 0 {
		stdEnv := maps.Clone(goEnv)
		for _, k := range moduleFetchEnv {
			delete(stdEnv, k)
		}
		// Outside any module: std compiles the same in every one. A
		// fresh builder runs it only for a new standard import.
		layers[stdLayerDir] = p.exportStep(opt.Builder, StepStdLayer(platform, patterns...), stdLayerDir, "", std, flags, stdEnv,
			bkllb.Dir("/"))
	}
	if len(std) == len(imported) {
		return layers
	}
	root, afterDownload := p.modules.on(opt, opt.compilesOnToolchain(b, goEnv))
	run := []bkllb.RunOption{
		afterDownload,
		bkllb.Dir(path.Join(srcDir, s.Module)),
		bkllb.AddMount(srcDir, dependencyFiles(s, opt), bkllb.Readonly),
		p.modules.trusted,
		// As go build, it may fetch a module go mod download did not.
		opt.credentials(),
	}
	var from string
	if st, ok := layers[stdLayerDir]; ok {
		from = stdLayerDir
		run = append(run, bkllb.AddMount(stdLayerDir, st, bkllb.Readonly, opt.keyedByStep()))
	}
	layers[moduleLayerDir] = p.exportStep(root, StepDependencies(platform, patterns...), moduleLayerDir, from, imported, flags, goEnv, run...)
	return layers
}

// defaultProfile reports whether go build of group applies a default.pgo:
// one of its main packages has one and no -pgo flag says otherwise. The
// layers would hold the dependencies compiled without it, which such a go
// build never reads.
func (p *platformBuild) defaultProfile(group []int, env map[string]string) bool {
	s := p.s
	// GOFLAGS first: go takes the last -pgo, and the command line's come
	// after them. Flags may start with one dash or two.
	flags := append(strings.Fields(env["GOFLAGS"]), s.Binaries[group[0]].Flags...)
	setting := "auto"
	for i, f := range flags {
		name, v, hasValue := strings.Cut("-"+strings.TrimLeft(f, "-"), "=")
		if name != "-pgo" {
			continue
		}
		if !hasValue && i+1 < len(flags) {
			v = flags[i+1]
		}
		setting = v
	}
	if setting != "auto" {
		return false // off, or a named profile (pgoProfile)
	}
	for _, i := range group {
		if slices.Contains(p.opt.ProfileDirs, path.Join(s.Module, s.Binaries[i].Package)) {
			return true
		}
	}
	return false
}

// dependencyLayered reports whether the build makes the dependency
// layers (see DependencyCache).
func (opt Options) dependencyLayered() bool {
	return opt.DependencyCache == DependencyCacheLayer || opt.DependencyCache != DependencyCacheMount && opt.CacheImported
}

// exportStep runs gocache export of packages on root into a layer at out,
// leaving out what the layer mounted at from (if any) holds. The packages
// are arguments, not a file: a file would be a step of its own, whose
// cache every build checks.
func (p *platformBuild) exportStep(root bkllb.State, name, out, from string, packages, flags []string, env map[string]string, extra ...bkllb.RunOption) bkllb.State {
	opt := p.opt
	args := []string{helperBinary, "export"}
	if from != "" {
		args = append(args, "-from", from)
	}
	args = append(append(append(args, out), flags...), "--")
	run := append([]bkllb.RunOption{
		bkllb.Args(append(args, packages...)),
		helperMount(opt),
		seededCache(p.s, opt),
		bkllb.WithCustomName(name),
	}, extra...)
	return root.Run(append(run, envOptions(env)...)...).AddMount(out, bkllb.Scratch())
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

// seeded runs go build with the dependency layers copied into its cache
// first, where the cache lacks them. The helper it runs is go build's
// own mount.
func seeded(args []string, layers map[string]bkllb.State, opt Options) ([]string, []bkllb.RunOption) {
	dirs := slices.Sorted(maps.Keys(layers))
	var opts []bkllb.RunOption
	for _, dir := range dirs {
		opts = append(opts, bkllb.AddMount(dir, layers[dir], bkllb.Readonly, opt.keyedByStep()))
	}
	return append(append(append([]string{helperBinary, "seed"}, dirs...), "--"), args...), opts
}

// keyedByStep keys a step on a read-only mount's step rather than its
// content, which BuildKit would otherwise hash file by file: on a fresh
// builder, thousands of files (the toolchain's sources, the dependency
// layers) whose steps' keys already say what they hold. A daemon without
// the option keeps hashing them.
func (opt Options) keyedByStep() bkllb.MountOption {
	if opt.MountsKeyedByContent {
		return bkllb.ContentCache(bkllb.MountContentCacheDefault)
	}
	return bkllb.ContentCache(bkllb.MountContentCacheOff)
}

// seededCache is the build cache of the steps that copy dependency layers
// into it: the shared one, or the project's own when the client imports
// caches, whose layers this builder did not make.
func seededCache(s *spec.Spec, opt Options) bkllb.RunOption {
	if opt.CacheImported {
		return cacheMount(opt, buildCache, projectCacheID(s, opt, "imported"))
	}
	return cacheMount(opt, buildCache, opt.sharedCacheID("gobuild-gocache"))
}
