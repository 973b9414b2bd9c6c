// Package frontend is the BuildKit gateway side of gobuild: it reads the
// client's options through dockerui, loads the spec and the images it
// names, and hands each target platform to the pure llb package.
//
// Build reads the spec, answers buildx's subrequests (subrequests.go),
// parses the build-args (buildargs.go), reads the context (context.go,
// sources.go, vcs.go and gitfs.go) and dispatches to the target asked for (targets.go,
// image.go).
package frontend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/internal/gitinfo"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/mod/modfile"
)

// Options the frontend reads besides dockerui's and the build-args.
const (
	// keyVCSRevision and keyVCSSource are set by buildx for git contexts.
	keyVCSRevision = "vcs:revision"
	keyVCSSource   = "vcs:source"
	keyFilename    = "filename"
)

// Build is the frontend's entry point, run by the gateway for each build.
func Build(ctx context.Context, c client.Client) (_ *client.Result, retErr error) {
	self := frontendImage(c)
	c = withDefaultFilename{c}
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "YAML")
	if err != nil {
		return nil, err
	}
	// Every spec problem, whenever it is found, reaches the client with the
	// lines it is about.
	defer func() { retErr = withSpecSource(retErr, src.SourceMap) }()

	s, err := spec.Parse(src.Filename, src.Data)
	if err != nil {
		return nil, err
	}
	b := &builder{c: c, bc: bc, spec: s, src: src, frontendImage: self}
	// The subrequests (--call) fail on no build-arg: check reads what
	// parses, and a bad one fails the build itself.
	if res, handled, err := bc.HandleSubrequest(ctx, b.subrequests()); err != nil || handled {
		return res, err
	}
	t, err := lookupTarget(bc.Target)
	if err != nil {
		return nil, err
	}
	if err := checkTargetPlatforms(bc.TargetPlatforms); err != nil {
		return nil, err
	}
	// The build-args need nothing from the context, so a bad one is
	// reported before anything is read from it.
	if b.buildArgs, err = parseBuildArgs(bc.BuildArgs); err != nil {
		return nil, err
	}
	// The module cache partition is asked for as soon as what it reads is
	// known, beside the context's reads and checks: all are round trips,
	// and the build needs them all.
	var partition *pendingPartition
	moduleRead := func() {
		if t.usesModules && !b.spec.PartReads(spec.PartGo, vcsFields...) {
			partition = b.askPartition(ctx)
		}
	}
	if err := b.prepare(ctx, moduleRead); err != nil {
		return nil, err
	}
	if t.usesModules && partition == nil {
		partition = b.askPartition(ctx)
	}
	// Every package and template mistake at once, before anything runs.
	errs := []error{b.checkSources(ctx)}
	if t.name == "image" {
		errs = append(errs, b.checkFiles(ctx))
	}
	if t.checkTemplates != nil {
		errs = append(errs, t.checkTemplates(b))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if partition != nil {
		return b.buildInPartition(ctx, t, partition)
	}
	return t.build(b, ctx)
}

// builder holds what one build has learned so far.
type builder struct {
	c    client.Client
	bc   *dockerui.Client
	spec *spec.Spec
	src  *dockerui.Source
	// buildArgs is parsed before the context is read; readVCS may then
	// replace the default version with the nearest tag.
	buildArgs

	buildPlatform ocispecs.Platform
	builderImage  llb.State
	builderGoroot string
	mainContext   llb.State
	commit        string
	commitTime    *time.Time
	goFiles       map[string][]gbllb.GoFile
	imports       *gbllb.Imports
	profileDirs   []string
	// excludes are the patterns the main context leaves out.
	excludes []string
	sources  *gbllb.SourceSet
	// goMod is the spec's go.mod; modules what go reads besides it.
	goMod   []byte
	modules gbllb.ModuleFiles
	// goModSource is go.mod as a source for step locations, and
	// goModRanges the directives that decide the module download.
	goModSource *llb.SourceMap
	goModRanges []*pb.Range
	// partition names the build's part of the shared module cache.
	partition string
	// evaluate runs every solve to the end before it returns, for a build
	// started before its partition was known (partition.go).
	evaluate bool
	// frontendImage is the image this frontend runs from, when it holds
	// the helper.
	frontendImage *llb.State
}

// prepare reads go.mod, fills the defaults that depend on it and loads the
// builder image and the main context. The context's reads (go.mod then the
// image it names; vendor/modules.txt and go.work then the workspace
// members' go.mod; the .go files; .git) are independent round trips to
// the client, so they run at once: on a one-line rebuild they are most of
// the time before the first go command starts.
//
// moduleRead runs once go.mod and the builder image are loaded, beside
// the other reads.
func (b *builder) prepare(ctx context.Context, moduleRead func()) error {
	excludes, err := b.loadMainContext(ctx)
	if err != nil {
		return err
	}
	b.excludes = excludes
	b.commit = b.bc.BuildOpts().Opts[keyVCSRevision]

	var (
		wg                                       sync.WaitGroup
		moduleErr, sourcesErr, layoutErr, vcsErr error
		linksErr                                 error
		facts                                    *moduleFacts
		vcs                                      gitinfo.Info
		links                                    []string
	)
	// Asked before loadModule fills the defaults, which cleans the module.
	modDir, workspaces := path.Dir(b.spec.ModFile()), b.spec.Env["GOWORK"] != "off"
	wg.Go(func() {
		if moduleErr = b.loadModule(ctx); moduleErr == nil {
			moduleRead()
		}
	})
	wg.Go(func() { facts, layoutErr = b.readModuleFacts(ctx, modDir, workspaces) })
	wg.Go(func() { sourcesErr = b.scanSources(ctx, excludes) })
	wg.Go(func() { links, linksErr = b.moduleLinks(ctx, modDir) })
	if b.vcsNeeded() {
		wg.Go(func() { vcs, vcsErr = b.readVCS(ctx) })
	}
	wg.Wait()
	// The first problem in the order a user fixes them: go.mod (a link
	// out of the context first: it explains why go.mod is not read), then
	// the packages.
	if linksErr != nil {
		return linksErr
	}
	if moduleErr != nil {
		return moduleErr
	}
	if layoutErr == nil {
		facts.goMod = b.goMod
		b.modules, layoutErr = facts.layout()
		b.modules.Links = links
	}
	if layoutErr != nil {
		return layoutErr
	}
	if sourcesErr != nil {
		return sourcesErr
	}
	return b.useVCS(ctx, vcs, vcsErr)
}

// loadModule reads go.mod, fills the defaults that depend on it and on the
// build options, and loads the builder image.
func (b *builder) loadModule(ctx context.Context) error {
	s, bc := b.spec, b.bc
	goMod, err := readContextFile(ctx, b.c, bc, s.ModFile())
	if err != nil {
		return s.ErrorAt([]any{"module"}, "reading %s from the build context: %v; module must name the directory holding go.mod", s.ModFile(), err)
	}
	b.goMod = goMod
	b.goModSource = llb.NewSourceMap(nil, s.ModFile(), "", goMod)
	b.goModRanges = downloadDirectives(s.ModFile(), goMod)
	if err := goModSyntax(b.goModSource); err != nil {
		return err
	}
	if err := s.FillDefaults(goMod); err != nil {
		return err
	}
	b.buildPlatform = bc.BuildPlatforms[0]
	builderImage, builderConfig, err := loadImage(ctx, b.c, bc, s.Builder, b.buildPlatform)
	if err != nil {
		return s.ErrorAt([]any{"builder"}, "loading the builder image %s: %v", s.Builder, err)
	}
	b.builderImage = builderImage
	b.builderGoroot = goroot(builderConfig)
	builderGo := imageEnv(builderConfig, "GOLANG_VERSION")
	if err := s.CheckBuilderGo(goMod, builderGo); err != nil {
		return err
	}
	if b.prebuiltHelper() == nil {
		return s.CheckBuilderMinimum(builderGo, gbllb.HelperMinimumGo, "gobuild's helper, which this builder compiles (gobuild's frontend image brings it prebuilt),")
	}
	return nil
}

// imageEnv is the value of an image's environment variable, empty when
// the image or the variable is missing.
func imageEnv(img *dockerspec.DockerOCIImage, name string) string {
	if img == nil {
		return ""
	}
	for _, kv := range img.Config.Env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// goroot is where a builder image keeps the Go distribution its go runs
// from, when its config says so as golang images' does: GOLANG_VERSION
// set, GOROOT unset or the default, PATH naming the default's bin, and
// the root user (the toolchain layer has no passwd to look a name up in).
// Empty otherwise, and when the image sets GOFLAGS, which would change
// what go builds beyond what the spec says (a tag, coverage) and so what
// of the distribution it reads: go build then runs on the whole image.
func goroot(img *dockerspec.DockerOCIImage) string {
	if img == nil || imageEnv(img, "GOLANG_VERSION") == "" || imageEnv(img, "GOFLAGS") != "" {
		return ""
	}
	if g := imageEnv(img, "GOROOT"); g != "" && path.Clean(g) != gbllb.DefaultGoroot {
		return ""
	}
	if !slices.Contains(strings.Split(imageEnv(img, "PATH"), ":"), gbllb.DefaultGoroot+"/bin") {
		return ""
	}
	if u := img.Config.User; u != "" && u != "0" && u != "0:0" {
		return ""
	}
	return gbllb.DefaultGoroot
}

// options are the llb options for one target platform.
func (b *builder) options(target ocispecs.Platform) gbllb.Options {
	opts := b.bc.BuildOpts().Opts
	return gbllb.Options{
		BuildPlatform:        b.buildPlatform,
		TargetPlatform:       target,
		TargetPlatforms:      b.targetPlatforms(),
		Context:              b.mainContext,
		Builder:              b.builderImage,
		Goroot:               b.builderGoroot,
		MountsKeyedByContent: b.mountsKeyedByContent(),
		PrebuiltHelper:       b.prebuiltHelper(),
		Version:              b.version,
		Commit:               b.commit,
		CommitTime:           b.commitTime,
		Source:               opts[keyVCSSource],
		ModulePath:           b.modulePath(),
		ModulePartition:      b.partition,
		Labels:               maps.Clone(b.bc.Labels),
		Args:                 maps.Clone(b.bc.BuildArgs),
		Epoch:                b.epoch,
		CacheNamespace:       b.bc.CacheIDNamespace,
		SourceMap:            b.src.SourceMap,
		Sources:              b.sources,
		ModuleCache:          b.moduleCache,
		DependencyCache:      b.dependencyCache,
		VulnDB:               b.vulnDB,
		CacheImported:        len(b.bc.CacheImports) > 0,
		Imports:              b.imports,
		ProfileDirs:          b.profileDirs,
		Modules:              b.modules,
		GoMod:                b.goModSource,
		GoModRanges:          b.goModRanges,
	}
}

// mountsKeyedByContent says the daemon predates the option to key a step
// on a read-only mount's step (BuildKit v0.13), and would refuse it.
func (b *builder) mountsKeyedByContent() bool {
	caps := b.c.BuildOpts().LLBCaps
	return caps.Supports(pb.CapExecMountContentCache) != nil
}

// modulePath is the main module's path, as go.mod names it.
func (b *builder) modulePath() string { return modfile.ModulePath(b.goMod) }

// targetPlatforms are the platforms the client asked for. Asking for none
// is, to BuildKit, asking for the daemon's own platform: its exporter warns
// when a result's platforms differ from those. So, as the Dockerfile
// frontend does, the build platform alone is built then, and the spec's
// platforms are a default for the clients that send them as their request.
func (b *builder) targetPlatforms() []ocispecs.Platform {
	if len(b.bc.TargetPlatforms) == 0 {
		return []ocispecs.Platform{b.buildPlatform}
	}
	return b.bc.TargetPlatforms
}

// checkTargetPlatforms refuses a platform the client asks for that the
// spec could not name: the image is a Linux image, so a Windows binary in
// it would run nowhere. The error names --platform, not a spec line: the
// client's option is what to fix.
func checkTargetPlatforms(ps []ocispecs.Platform) error {
	var errs []error
	for _, p := range ps {
		if err := spec.CheckPlatform(p); err != nil {
			errs = append(errs, fmt.Errorf("--platform: %w; ask for linux platforms, such as linux/amd64 or linux/arm64", err))
		}
	}
	return errors.Join(errs...)
}

func (b *builder) solve(ctx context.Context, st llb.State, platform ocispecs.Platform, evaluate bool) (client.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(platform))
	if err != nil {
		return nil, fmt.Errorf("marshaling the build for %s: %w", platforms.Format(platform), err)
	}
	r, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: evaluate || b.evaluate})
	if err != nil {
		return nil, err
	}
	return r.SingleRef()
}

// singleResult solves a state that is the whole, platform-less result;
// evaluate runs it even when the client exports nothing (test, vet).
func (b *builder) singleResult(ctx context.Context, st llb.State, evaluate bool) (*client.Result, error) {
	ref, err := b.solve(ctx, st, b.buildPlatform, evaluate)
	if err != nil {
		return nil, err
	}
	res := client.NewResult()
	res.SetRef(ref)
	return res, nil
}

// withDefaultFilename makes gobuild.yaml the spec's default name, the way
// the Dockerfile frontend defaults to Dockerfile.
type withDefaultFilename struct{ client.Client }

func (c withDefaultFilename) BuildOpts() client.BuildOpts {
	opts := c.Client.BuildOpts()
	if opts.Opts[keyFilename] == "" {
		m := maps.Clone(opts.Opts)
		if m == nil {
			m = map[string]string{}
		}
		m[keyFilename] = spec.DefaultFilename
		opts.Opts = m
	}
	return opts
}
