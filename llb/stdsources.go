package llb

import (
	"encoding/json"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// A builder that starts empty and imports a registry cache unpacks the
// standard library's sources before go build can start: the toolchain
// layer's src, about 3,000 files for any linux program. A program reaches
// part of them (the small service 186 of its 468 directories), and only
// its targets' architectures. So where the frontend can describe every go
// build to go list, a step keyed on what decides the set (the packages
// imported from outside the module, the module files, the flags, the
// platforms; never the module's own source) copies out those packages'
// sources, and go build mounts that layer as src instead. A fresh builder
// then pulls that layer, and the whole src only when an import changes.
//
// go's action IDs hash the files a package compiles from, not the
// directory's other entries, so the compiled dependency layers, made on
// the whole src, still serve a go build on the smaller one.

// reachedLayer is the standard library's sources the go builds of jobs
// read.
type reachedLayer struct {
	state bkllb.State
	// modules, when set, is the module cache with what the go builds read
	// of other modules (see moduleLayer).
	modules *bkllb.State
	jobs    []string // each reachedJob as the step's job file holds it
}

// reachedJob is one go build as go list is to load it: the helper's
// subset command lists the standard packages that packages reach with
// flags in env.
type reachedJob struct {
	Env      []string `json:"env"`
	Flags    []string `json:"flags"`
	Packages []string `json:"packages"`
}

// coverFlags make go build link runtime/coverage, which go list -deps of
// the packages does not name. The spec's allow-list of flags
// (spec/checks.go) keeps out the other flags that link more (-race, -msan,
// -asan, other build modes).
var coverFlags = []string{"-cover", "-covermode", "-coverpkg"}

// reachedJob describes the go build of group to go list, or reports that
// it cannot: a build that does not run on the toolchain layer, for another
// system than linux, with coverage, or of packages whose files the
// frontend did not all read.
func (p *platformBuild) reachedJob(group []int) (reachedJob, bool) {
	s, opt := p.s, p.opt
	i := group[0]
	b := s.Binaries[i]
	env, err := p.buildEnv(i)
	if err != nil || b.Cgo || b.Buildvcs || p.target.OS != "linux" || !opt.compilesOnToolchain(b, env) {
		return reachedJob{}, false
	}
	flags := compileFlags(s, i)
	for _, f := range append(slices.Clone(flags), strings.Fields(env["GOFLAGS"])...) {
		if name, _, _ := strings.Cut(f, "="); slices.Contains(coverFlags, name) {
			return reachedJob{}, false
		}
	}
	var patterns []string
	for _, j := range group {
		patterns = append(patterns, s.Binaries[j].Package)
	}
	packages, complete := opt.Imports.outside(opt.ModulePath, s.Module, patterns, p.target.OS, p.target.Architecture, b.Tags, mayMatch)
	if !complete {
		return reachedJob{}, false
	}
	job := reachedJob{Flags: flags, Packages: packages}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_") {
			job.Env = append(job.Env, k+"="+env[k])
		}
	}
	return job, true
}

// reachedSources is the layer of the standard library's sources that the
// go builds of every target platform reach, for those go builds that
// reachedJob can describe; nil when there are none, when the build does
// not run on the toolchain layer, or when the module reads other modules
// from the context (local replacements, a workspace), whose imports the
// frontend does not read.
func reachedSources(s *spec.Spec, opt Options) *reachedLayer {
	if !opt.toolchainLayered() || opt.Modules.local() || opt.Imports == nil || opt.ModulePath == "" {
		return nil
	}
	var jobs []reachedJob
	var first *platformBuild
	// The architectures go build may read files of: the targets', and any
	// a build tag names (go/build then reads that architecture's files).
	var archs []string
	for _, target := range opt.TargetPlatforms {
		target = platforms.Normalize(target)
		topt := opt
		topt.TargetPlatform = target
		p, selected, err := newPlatformBuild(s, topt, target)
		if err != nil {
			return nil // that platform's Binaries reports it
		}
		for _, group := range buildGroups(s, p.s, selected, target) {
			job, ok := p.reachedJob(group)
			if !ok {
				continue
			}
			if first == nil {
				first = p
			}
			jobs = append(jobs, job)
			archs = append(archs, target.Architecture)
			archs = append(archs, p.s.Binaries[group[0]].Tags...)
			for _, kv := range job.Env {
				if arch, ok := strings.CutPrefix(kv, "GOARCH="); ok {
					archs = append(archs, arch)
				}
			}
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	layer := &reachedLayer{}
	for _, job := range jobs {
		data, err := json.Marshal(job)
		if err != nil {
			panic(err) // strings only
		}
		layer.jobs = append(layer.jobs, string(data))
	}
	// The same layer whatever order the client lists its platforms in.
	slices.Sort(layer.jobs)
	layer.jobs = slices.Compact(layer.jobs)
	jobFile := bkllb.Scratch().File(
		bkllb.Mkfile("/jobs.json", 0o644, []byte("["+strings.Join(layer.jobs, ",\n")+"]\n")),
		bkllb.WithCustomName("[internal] list the go builds"))
	const jobsDir, out, modulesOut = "/gobuild/jobs", "/gobuild/reached", "/gobuild/modules"
	slices.Sort(archs)
	args := []string{helperBinary, "subset", path.Join(opt.Goroot, "src"), out, path.Join(jobsDir, "jobs.json"),
		strings.Join(otherSystems, ","), strings.Join(slices.Compact(archs), ",")}
	withModules := moduleLayer(s, opt)
	if withModules {
		args = append(args, modulesOut)
	}
	root, afterDownload := first.modules.on(opt, true)
	run := root.Run(
		bkllb.Args(args),
		afterDownload,
		// The layer of modules holds what the credentials fetched: it is
		// the partition's, as go build's result is.
		bkllb.AddEnv("GOBUILD_MODULE_PARTITION", opt.partitionName()),
		helperMount(opt),
		// go list indexes every package of a module it loads into
		// GOCACHE: with the builder's cache, only once per module.
		seededCache(s, opt),
		bkllb.AddMount(jobsDir, jobFile, bkllb.Readonly),
		bkllb.Dir(path.Join(srcDir, s.Module)),
		bkllb.AddMount(srcDir, dependencyFiles(s, opt), bkllb.Readonly),
		first.modules.trusted,
		// As go build, go list may fetch a module go mod download did not
		// (a fresh builder's cache mount is empty).
		opt.credentials(),
		bkllb.WithCustomName(StepReachedSources),
	)
	layer.state = run.AddMount(out, bkllb.Scratch())
	if withModules {
		modules := run.AddMount(modulesOut, bkllb.Scratch())
		layer.modules = &modules
	}
	return layer
}

// moduleLayer reports whether the step of the reached sources also
// copies out what the go builds read of the module cache, for go build to
// use as its module cache: on a fresh builder the cache mount is empty,
// and go build would download and extract every module it imports from
// (thousands of files for gRPC), where the layer holds only the packages
// it reads. The layer travels with --cache-to: in a partition of its own
// (credentials, private module settings) it would carry private modules'
// sources there, so it is made only in the shared partition, or where
// GOBUILD_MODULE_CACHE=layer sends every module there already (and then
// go build need not pull that layer's whole modules and zips). Not for
// vendored modules (no module cache), nor where no go build trims paths
// (see reachedMount).
func moduleLayer(s *spec.Spec, opt Options) bool {
	trims := slices.ContainsFunc(s.Binaries, func(b spec.Binary) bool { return *b.Trimpath })
	return trims && !usesVendor(s, opt) && (opt.partitionName() == SharedPartition || opt.ModuleCache == ModuleCacheLayer)
}

// reachedMount mounts the layer of the standard library's sources the go
// build of group reads as the distribution's src, if reached was made for
// that go build. When the layer of modules was made too, and the go build
// trims paths, modules mounts that layer for the helper to make it go
// build's module cache (reachedCommand): writable, so that go may still
// fetch what the layer lacks, and thrown away after the step. Without
// -trimpath a compiled package's key holds its directory, which must then
// be the module cache the dependency layers were compiled from.
func (p *platformBuild) reachedMount(group []int) (sources, modules bkllb.RunOption, ok bool) {
	if p.reached == nil {
		return nil, nil, false
	}
	job, ok := p.reachedJob(group)
	if !ok {
		return nil, nil, false
	}
	data, err := json.Marshal(job)
	if err != nil || !slices.Contains(p.reached.jobs, string(data)) {
		return nil, nil, false
	}
	sources = bkllb.AddMount(path.Join(p.opt.Goroot, "src"), p.reached.state, bkllb.Readonly, p.opt.keyedByStep())
	if p.reached.modules != nil && *p.s.Binaries[group[0]].Trimpath {
		modules = bkllb.AddMount(reachedModCacheDir, *p.reached.modules, bkllb.ForceNoOutput, p.opt.keyedByStep())
	}
	return sources, modules, true
}
