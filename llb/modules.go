package llb

import (
	"cmp"
	"path"
	"slices"
	"strings"

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

// ModuleFiles is what the frontend learned of the module files the go
// command reads besides the spec's own go.mod and go.sum. The zero value
// is a module on its own: no vendor/, no workspace, no local replacement
// outside its directory.
type ModuleFiles struct {
	// Vendor reports that go uses vendor/ by default: vendor/modules.txt
	// is where go looks for it (the module's directory, or the
	// workspace's) and the go version there is 1.14 or later.
	Vendor bool
	// Workspace is the directory of the go.work the go command uses,
	// relative to the context root; empty outside workspace mode.
	Workspace string
	// Dirs are the directories of the other modules whose go.mod go reads
	// to load the build list, relative to the context root: local replace
	// targets and workspace members.
	Dirs []string
	// Requires are the module paths the spec's go.mod requires. In a
	// workspace go mod download fetches these, not every module of every
	// member.
	Requires []string
	// Links are the module's go.mod and go.sum where they are symlinks,
	// and the paths they lead to, relative to the context root: the views
	// of the context the go commands get hold them too.
	Links []string
}

// moduleFilePatterns are the files go mod download reads, relative to a
// module's directory.
var moduleFilePatterns = []string{"go.mod", "go.sum", "go.work", "go.work.sum", "**/go.mod", "**/go.sum"}

// local reports whether go mod download reads module files outside the
// spec's module directory, and so needs the context's layout.
// A module whose go.mod or go.sum links elsewhere does too.
func (m ModuleFiles) local() bool { return m.Workspace != "" || len(m.Dirs) > 0 || len(m.Links) > 0 }

// moduleFiles is what go mod download may see of the context: go.mod,
// go.sum and workspace files, so that a source change never invalidates
// it. A module on its own is copied to the root; one that reads other
// modules' files keeps the context's layout, so that relative replace
// and use directives find them.
func moduleFiles(s *spec.Spec, opt Options) bkllb.State {
	src, include := "/"+s.Module+"/", moduleFilePatterns
	if opt.Modules.local() {
		src, include = "/", moduleFilePaths(s, opt)
	}
	return bkllb.Scratch().File(
		bkllb.Copy(opt.Context, src, "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     include,
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName(StepCopyModuleFiles),
	)
}

// moduleFilePaths are the patterns of moduleFiles in the context's
// layout, sorted.
func moduleFilePaths(s *spec.Spec, opt Options) []string {
	m := opt.Modules
	var include []string
	for _, p := range moduleFilePatterns {
		if !strings.HasPrefix(p, "go.work") {
			include = append(include, path.Join(s.Module, p))
		}
	}
	if m.Workspace != "" {
		include = append(include, path.Join(m.Workspace, "go.work"), path.Join(m.Workspace, "go.work.sum"))
	}
	for _, d := range m.Dirs {
		include = append(include, path.Join(d, "go.mod"), path.Join(d, "go.sum"))
	}
	include = append(include, m.Links...)
	slices.Sort(include)
	return slices.Compact(include)
}

// downloadArgs is the go mod download command line, false when there is
// nothing to download first. Vendored modules need nothing from the module
// cache. In a workspace go mod download with no arguments fetches every
// module of every member; the spec's module's requirements are what its
// binaries and tests need, and go build fetches any further module a
// member's package brings through the module cache mount.
func downloadArgs(s *spec.Spec, opt Options) ([]string, bool) {
	args := []string{"go", "mod", "download"}
	switch {
	case usesVendor(s, opt):
		return nil, false
	case opt.Modules.Workspace != "":
		if len(opt.Modules.Requires) == 0 {
			return nil, false
		}
		return append(args, opt.Modules.Requires...), true
	}
	return args, true
}

// usesVendor reports whether every go command of s builds from vendor/:
// go uses it by default and neither goflags nor a flag of the spec sets
// another -mod mode (the spec's env maps cannot set GOFLAGS).
func usesVendor(s *spec.Spec, opt Options) bool {
	if !opt.Modules.Vendor {
		return false
	}
	lists := [][]string{strings.Fields(s.Goflags), s.Test.Flags}
	for _, b := range s.Binaries {
		lists = append(lists, b.Flags)
	}
	for _, flags := range lists {
		for _, f := range flags {
			mode, ok := strings.CutPrefix(strings.TrimPrefix(f, "-"), "mod=") // -mod= or --mod=
			if ok && strings.HasPrefix(f, "-") && mode != "vendor" {
				return false
			}
		}
	}
	return true
}

// moduleAccess is how the go commands of one spec reach its modules.
type moduleAccess struct {
	// root is the state the go commands run on: the download's, or the
	// builder when there is no download or it ran on the toolchain layer.
	root bkllb.State
	// trusted mounts the modules for a step that runs no code of the
	// user's (go build without cgo).
	trusted bkllb.RunOption
	// untrusted mounts a copy of the modules, writable and thrown away,
	// for a step that runs the user's code.
	untrusted bkllb.RunOption
	// downloaded, when set, is an empty output of the download, which a
	// step mounts to run after it where root does not say so.
	downloaded *bkllb.State
}

// downloadedDir is where a step mounts the download's empty output.
const downloadedDir = "/gobuild/downloaded"

// on is the root a go command runs on, the toolchain layer with the
// whole src (see onToolchain) or root, and what it mounts to run after
// the download.
func (m moduleAccess) on(opt Options, onToolchain bool) (bkllb.State, bkllb.RunOption) {
	if onToolchain {
		return m.onSources(opt, toolchainSources(opt))
	}
	return m.root, m.afterDownload()
}

// onSources is the toolchain layer with sources, which mount the
// distribution's src, and what a go command mounts to run after the
// download.
func (m moduleAccess) onSources(opt Options, sources bkllb.RunOption) (bkllb.State, bkllb.RunOption) {
	return toolchainRoot(opt), runOptionList{sources, m.afterDownload()}
}

// afterDownload mounts the download's empty output, if a step needs it to
// run after the download.
func (m moduleAccess) afterDownload() bkllb.RunOption {
	if m.downloaded == nil {
		return runOptionList{}
	}
	return bkllb.AddMount(downloadedDir, *m.downloaded, bkllb.Readonly)
}

// download fetches the module's dependencies, with the go settings of s
// rendered, and says how the go commands reach them (llb/isolation.go).
func download(s *spec.Spec, opt Options) moduleAccess {
	args, ok := downloadArgs(s, opt)
	// Writable, so that go may take its locks; the writes are dropped.
	empty := bkllb.AddMount(modCacheDir, bkllb.Scratch())
	if !ok && (opt.ModuleCache == ModuleCacheLayer || usesVendor(s, opt)) {
		return moduleAccess{root: opt.Builder, trusted: empty, untrusted: empty}
	}
	// The partition is in the cache's id, so in each step's definition: a
	// build with other credentials is another download and another build.
	shared := cacheMount(opt, modCacheDir, opt.sharedCacheID("gobuild-gomodcache"))
	if !ok {
		// A workspace whose members require nothing outside it: go build
		// fetches what a member's package brings, into the partition.
		return moduleAccess{root: opt.Builder, trusted: shared, untrusted: empty}
	}
	dir := srcDir
	if opt.Modules.local() {
		dir = path.Join(srcDir, s.Module)
	}
	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		opt.credentials(),
		bkllb.Dir(dir),
		bkllb.AddMount(srcDir, moduleFiles(s, opt)),
		downloadLocations(s, opt),
	}
	// On a fresh builder a go.mod change runs the download: on the
	// toolchain layer, it too needs no pull of the builder.
	downloadOn := opt.Builder
	onToolchain := opt.onToolchain(commandEnv(s, nil))
	if onToolchain {
		// go mod download reads no package: it waits for no sources.
		downloadOn = toolchainRoot(opt)
	}
	if opt.ModuleCache == ModuleCacheLayer {
		// GOMODCACHE is the layer; the partition's name still keys it.
		env := goCommandEnv(s, map[string]string{"GOBUILD_MODULE_PARTITION": opt.partitionName()})
		run := downloadOn.Run(append(runOpts, append(env, bkllb.WithCustomName(StepModDownloadToLayer))...)...)
		modules := bkllb.AddMount(modCacheDir, run.AddMount(modCacheDir, bkllb.Scratch()))
		return moduleAccess{root: opt.Builder, trusted: modules, untrusted: modules}
	}
	m := moduleAccess{trusted: shared, root: opt.Builder}
	run := downloadOn.Run(append(runOpts, append(goCommandEnv(s, nil), shared, bkllb.WithCustomName(StepModDownload))...)...)
	if !onToolchain {
		m.root = run.Root()
	}
	if opt.toolchainLayered() {
		done := run.AddMount(downloadedDir, bkllb.Scratch())
		m.downloaded = &done
	}
	copyOn, afterDownload := m.on(opt, false)
	// The user's code gets its own copy: from the partition, mounted
	// read-only, else (a pruned cache) from where the download got it.
	// The copy runs no code of the user's, so it may have the credentials.
	const copyDir, partitionMount = "/gobuild/modules", "/gobuild/partition"
	fallback := cmp.Or(s.Goproxy, "https://proxy.golang.org,direct")
	cp := copyOn.Run(append(goCommandEnv(s, map[string]string{
		"GOMODCACHE": copyDir,
		"GOPROXY":    "file://" + path.Join(partitionMount, "cache", "download") + "," + fallback,
		"GOFLAGS":    "-modcacherw",
	}),
		bkllb.Args(args),
		afterDownload,
		opt.credentials(),
		bkllb.Dir(dir),
		bkllb.AddMount(srcDir, moduleFiles(s, opt), bkllb.Readonly),
		bkllb.AddMount(partitionMount, bkllb.Scratch(), bkllb.AsPersistentCacheDir(opt.CacheNamespace+opt.sharedCacheID("gobuild-gomodcache"), bkllb.CacheMountShared), bkllb.Readonly),
		bkllb.WithCustomName(StepModCopy),
	)...)
	m.untrusted = bkllb.AddMount(modCacheDir, cp.AddMount(copyDir, bkllb.Scratch()))
	return m
}

// downloadLocations ties the download to what decides it: the spec's
// module settings that are set, and go.mod's directives. A download that
// fails (a proxy turned off, a module missing, a replace that does not
// resolve) then shows those lines, not the spec's first.
func downloadLocations(s *spec.Spec, opt Options) bkllb.RunOption {
	var where []bkllb.RunOption
	for _, field := range []string{"go", "goproxy", "goprivate", "gonosumdb", "goflags", "env"} {
		if s.Has(field) {
			where = append(where, location(s, opt, field))
		}
	}
	if opt.GoMod != nil && len(opt.GoModRanges) > 0 {
		where = append(where, opt.GoMod.Location(opt.GoModRanges))
	}
	if len(where) == 0 {
		return location(s, opt, "module")
	}
	return runOptions(where...)
}
