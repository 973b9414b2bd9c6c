// Package frontend is the BuildKit gateway side of gobuild: it reads the
// client's options through dockerui, loads the spec and the images it
// names, and hands each target platform to the pure llb package.
package frontend

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Build-args and options the frontend reads.
const (
	argVersion         = "VERSION"
	argSourceDateEpoch = "SOURCE_DATE_EPOCH"
	// argModuleCache picks where modules are kept: "mount" (default) or
	// "layer", for ephemeral builders fed by a registry cache.
	argModuleCache = "GOBUILD_MODULE_CACHE"
	// keyVCSRevision and keyVCSSource are set by buildx for git contexts.
	keyVCSRevision = "vcs:revision"
	keyVCSSource   = "vcs:source"
	keyFilename    = "filename"
	defaultVersion = "dev"
)

// Build is the frontend's entry point, run by the gateway for each build.
func Build(ctx context.Context, c client.Client) (_ *client.Result, retErr error) {
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
	b := &builder{c: c, bc: bc, spec: s, src: src}
	if res, handled, err := bc.HandleSubrequest(ctx, b.subrequests()); err != nil || handled {
		return res, err
	}

	target := bc.Target
	if target == "" {
		target = spec.TargetImage
	}
	if !knownTarget(target) {
		return nil, fmt.Errorf("unknown target %q; valid targets: %s", target, strings.Join(targetNames(), ", "))
	}
	if err := b.prepare(ctx); err != nil {
		return nil, err
	}
	switch target {
	case spec.TargetBinaries:
		return b.buildBinaries(ctx)
	case spec.TargetTest, spec.TargetVet:
		return b.buildCheck(ctx, target)
	case spec.TargetSpec:
		return b.buildResolvedSpec(ctx)
	}
	return b.buildImage(ctx)
}

// builder holds what one build has learned so far.
type builder struct {
	c    client.Client
	bc   *dockerui.Client
	spec *spec.Spec
	src  *dockerui.Source

	buildPlatform ocispecs.Platform
	builderImage  llb.State
	mainContext   llb.State
	epoch         *time.Time
	version       string
	commit        string
	commitTime    *time.Time
	goFiles       map[string][]gbllb.GoFile
	sources       *gbllb.SourceSet
	moduleCache   gbllb.ModuleCache
}

// prepare reads go.mod, fills the defaults that depend on it and loads the
// builder image and the main context. The context's reads (go.mod then the
// image it names, the .go files, .git/HEAD) are independent round trips to
// the client, so they run at once: on a one-line rebuild they are most of
// the time before the first go command starts.
func (b *builder) prepare(ctx context.Context) error {
	s, bc := b.spec, b.bc
	// Nothing in a build reads .git unless a binary stamps VCS data, so it
	// stays out of the go commands' view: a commit, fetch or checkout of
	// another branch with the same sources keeps every step cached.
	excludes, err := bc.DockerIgnorePatterns(ctx)
	if err != nil {
		return err
	}
	if !s.UsesBuildvcs() {
		excludes = append(excludes, ".git")
	}
	mc, err := bc.MainContext(ctx, llb.ExcludePatterns(excludes))
	if err != nil {
		return err
	}
	b.mainContext = *mc
	b.commit = bc.BuildOpts().Opts[keyVCSRevision]
	_, explicitVersion := bc.BuildArgs[argVersion]
	needVCS := !explicitVersion || b.commit == ""

	var (
		wg                    sync.WaitGroup
		moduleErr, sourcesErr error
		isGitCheckout         bool
	)
	wg.Go(func() { moduleErr = b.loadModule(ctx) })
	wg.Go(func() { sourcesErr = b.scanSources(ctx, excludes) })
	if needVCS {
		wg.Go(func() {
			_, err := readContextFile(ctx, b.c, bc, ".git/HEAD")
			isGitCheckout = err == nil // else not a git checkout, or .git is ignored
		})
	}
	wg.Wait()
	// The first problem in the order a user fixes them: go.mod, then the
	// packages.
	if moduleErr != nil {
		return moduleErr
	}
	if sourcesErr != nil {
		return sourcesErr
	}
	if err := b.checkSources(); err != nil {
		return err
	}
	if needVCS && isGitCheckout {
		return b.readVCS(ctx)
	}
	return nil
}

// loadModule reads go.mod, fills the defaults that depend on it and on the
// build options, and loads the builder image.
func (b *builder) loadModule(ctx context.Context) error {
	s, bc := b.spec, b.bc
	goMod, err := readContextFile(ctx, b.c, bc, s.ModFile())
	if err != nil {
		return s.ErrorAt([]any{"module"}, "reading %s from the build context: %v; module must name the directory holding go.mod", s.ModFile(), err)
	}
	if err := s.FillDefaults(goMod); err != nil {
		return err
	}
	if len(bc.TargetPlatforms) == 0 && len(s.Platforms) > 0 {
		for _, p := range s.Platforms {
			bc.TargetPlatforms = append(bc.TargetPlatforms, platforms.Normalize(platforms.MustParse(p)))
		}
		bc.MultiPlatformRequested = bc.MultiPlatformRequested || len(bc.TargetPlatforms) > 1
	}
	if b.epoch, err = sourceDateEpoch(bc.BuildArgs); err != nil {
		return err
	}
	b.version = cmp.Or(bc.BuildArgs[argVersion], defaultVersion)
	switch mode := gbllb.ModuleCache(cmp.Or(bc.BuildArgs[argModuleCache], string(gbllb.ModuleCacheMount))); mode {
	case gbllb.ModuleCacheMount, gbllb.ModuleCacheLayer:
		b.moduleCache = mode
	default:
		return fmt.Errorf("build-arg %s=%q: want %q (a persistent cache mount) or %q (a layer a registry cache carries)",
			argModuleCache, mode, gbllb.ModuleCacheMount, gbllb.ModuleCacheLayer)
	}
	b.buildPlatform = bc.BuildPlatforms[0]
	if b.builderImage, _, err = loadImage(ctx, b.c, bc, s.Builder, b.buildPlatform); err != nil {
		return s.ErrorAt([]any{"builder"}, "loading the builder image %s: %v", s.Builder, err)
	}
	return nil
}

// readVCS fills what the client did not say (VERSION, vcs:revision) from
// the context's git history: the nearest tag, the commit and its time.
func (b *builder) readVCS(ctx context.Context) error {
	withGit, err := b.bc.MainContext(ctx)
	if err != nil {
		return err
	}
	opt := b.options(b.buildPlatform)
	opt.Context = *withGit
	ref, err := b.solve(ctx, gbllb.VCS(b.spec, opt), b.buildPlatform, false)
	if err != nil {
		return err
	}
	data, err := ref.ReadFile(ctx, client.ReadRequest{Filename: gbllb.VCSFile})
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	for len(lines) < 3 {
		lines = append(lines, "")
	}
	if _, explicit := b.bc.BuildArgs[argVersion]; !explicit && lines[0] != "" {
		b.version = lines[0]
	}
	if b.commit == "" {
		b.commit = lines[1]
	}
	if sec, err := strconv.ParseInt(lines[2], 10, 64); err == nil {
		t := time.Unix(sec, 0).UTC()
		b.commitTime = &t
	}
	return nil
}

func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// options are the llb options for one target platform.
func (b *builder) options(target ocispecs.Platform) gbllb.Options {
	opts := b.bc.BuildOpts().Opts
	return gbllb.Options{
		BuildPlatform:  b.buildPlatform,
		TargetPlatform: target,
		Context:        b.mainContext,
		Builder:        b.builderImage,
		Version:        b.version,
		Commit:         b.commit,
		CommitTime:     b.commitTime,
		Source:         opts[keyVCSSource],
		Args:           maps.Clone(b.bc.BuildArgs),
		Epoch:          b.epoch,
		CacheNamespace: b.bc.CacheIDNamespace,
		SourceMap:      b.src.SourceMap,
		Sources:        b.sources,
		ModuleCache:    b.moduleCache,
	}
}

func (b *builder) targetPlatforms() []ocispecs.Platform {
	if len(b.bc.TargetPlatforms) == 0 {
		return []ocispecs.Platform{b.buildPlatform}
	}
	return b.bc.TargetPlatforms
}

func (b *builder) solve(ctx context.Context, st llb.State, platform ocispecs.Platform, evaluate bool) (client.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(platform))
	if err != nil {
		return nil, fmt.Errorf("marshaling the build for %s: %w", platforms.Format(platform), err)
	}
	r, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: evaluate})
	if err != nil {
		return nil, err
	}
	return r.SingleRef()
}

func (b *builder) buildImage(ctx context.Context) (*client.Result, error) {
	s, bc := b.spec, b.bc
	var mu sync.Mutex
	annotations := map[string]string{}
	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		target := b.buildPlatform
		if platform != nil {
			target = *platform
		}
		opt := b.options(target)
		switch base := s.BaseFor(target); base {
		case spec.BaseStatic, spec.BaseScratch:
		default:
			st, img, err := loadImage(ctx, b.c, bc, base, target)
			if err != nil {
				return nil, s.ErrorAt(basePath(s, target), "loading base image %s for %s: %v", base, platforms.Format(target), err)
			}
			opt.Base, opt.BaseImage = &st, img
		}
		res, err := gbllb.Convert(ctx, s, opt)
		if err != nil {
			return nil, err
		}
		ref, err := b.solve(ctx, res.State, target, false)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		for k, v := range res.Annotations {
			var p *ocispecs.Platform
			if bc.MultiPlatformRequested {
				p = &target
			}
			annotations[exptypes.AnnotationManifestKey(p, k)] = v
		}
		mu.Unlock()
		return &dockerui.BuildResult{Reference: ref, Image: res.Image, BaseImage: opt.BaseImage, Epoch: b.epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	for k, v := range annotations {
		rb.AddMeta(k, []byte(v))
	}
	return rb.Finalize()
}

// basePath is where the base for a platform is set in the spec.
func basePath(s *spec.Spec, target ocispecs.Platform) []any {
	for k := range s.Image.Bases {
		if p, err := platforms.Parse(k); err == nil && platforms.Format(platforms.Normalize(p)) == platforms.Format(platforms.Normalize(target)) {
			return []any{"image", "bases", k}
		}
	}
	return []any{"image", "base"}
}

// buildBinaries returns every platform's binaries in one tree, as
// <os>_<arch>[_<variant>]/<name>, ready for --output type=local.
func (b *builder) buildBinaries(ctx context.Context) (*client.Result, error) {
	fa := llb.Mkdir("/", 0o755)
	for _, target := range b.targetPlatforms() {
		target = platforms.Normalize(target)
		bins, err := gbllb.Binaries(b.spec, b.options(target))
		if err != nil {
			return nil, err
		}
		dir := "/" + strings.ReplaceAll(platforms.Format(target), "/", "_")
		for _, bin := range bins {
			fa = fa.Copy(bin.State, bin.File, dir+"/"+bin.Name, &llb.CopyInfo{CreateDestPath: true})
		}
	}
	return b.singleResult(ctx, llb.Scratch().File(fa, llb.WithCustomName("collect binaries")), false)
}

// buildCheck runs go test or go vet; a failure fails the build with the
// command's output.
func (b *builder) buildCheck(ctx context.Context, target string) (*client.Result, error) {
	opt := b.options(b.buildPlatform)
	var st llb.State
	var err error
	if target == spec.TargetTest {
		st, err = gbllb.Test(b.spec, opt)
	} else {
		st, err = gbllb.Vet(b.spec, opt)
	}
	if err != nil {
		return nil, err
	}
	return b.singleResult(ctx, st, true)
}

// buildResolvedSpec outputs the spec with its defaults filled in.
func (b *builder) buildResolvedSpec(ctx context.Context) (*client.Result, error) {
	data, err := b.spec.Resolved()
	if err != nil {
		return nil, err
	}
	st := llb.Scratch().File(llb.Mkfile("/gobuild.resolved.yaml", 0o644, data), llb.WithCustomName("write gobuild.resolved.yaml"))
	return b.singleResult(ctx, st, false)
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

func knownTarget(name string) bool {
	for _, t := range spec.Targets {
		if t.Name == name {
			return true
		}
	}
	return false
}

func targetNames() []string {
	var names []string
	for _, t := range spec.Targets {
		names = append(names, t.Name)
	}
	return names
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

func sourceDateEpoch(args map[string]string) (*time.Time, error) {
	v, ok := args[argSourceDateEpoch]
	if !ok || v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("build-arg %s=%q is not a number of seconds since 1970", argSourceDateEpoch, v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}

// readContextFile reads one file of the main context, transferring only
// that file.
func readContextFile(ctx context.Context, c client.Client, bc *dockerui.Client, name string) ([]byte, error) {
	st, err := bc.MainContext(ctx, llb.FollowPaths([]string{name}), dockerui.WithInternalName("load "+name))
	if err != nil {
		return nil, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	return dockerui.ReadFile(ctx, ref, name)
}

// loadImage returns an image as a state with its config applied. A named
// context of the same name (--build-context golang:1.26=...) wins over the
// registry, so users can redirect every image the frontend uses.
func loadImage(ctx context.Context, c client.Client, bc *dockerui.Client, ref string, platform ocispecs.Platform) (llb.State, *dockerspec.DockerOCIImage, error) {
	nc, err := bc.NamedContext(ref, dockerui.ContextOpt{Platform: &platform, ResolveMode: bc.ImageResolveMode.String()})
	if err != nil {
		return llb.State{}, nil, err
	}
	if nc != nil {
		st, img, err := nc.Load(ctx)
		if err != nil {
			return llb.State{}, nil, err
		}
		if st != nil {
			return *st, img, nil
		}
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return llb.State{}, nil, err
	}
	named = reference.TagNameOnly(named)
	resolved, dgst, cfg, err := c.ResolveImageConfig(ctx, named.String(), sourceresolver.Opt{
		LogName:  "[internal] load metadata for " + named.String(),
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: bc.ImageResolveMode.String()},
	})
	if err != nil {
		return llb.State{}, nil, err
	}
	if dgst != "" {
		if withDigest, err := reference.WithDigest(named, dgst); err == nil {
			resolved = withDigest.String()
		}
	}
	st := llb.Image(resolved, llb.Platform(platform), llb.WithCustomName("[internal] load "+named.String()))
	st, err = st.WithImageConfig(cfg)
	if err != nil {
		return llb.State{}, nil, err
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(cfg, &img); err != nil {
		return llb.State{}, nil, err
	}
	return st, &img, nil
}

// withSpecSource attaches the spec's text and the lines of every problem to
// err, so that buildx prints the offending lines of gobuild.yaml.
func withSpecSource(err error, sm *llb.SourceMap) error {
	if err == nil || sm == nil || len(errdefs.Sources(err)) > 0 {
		return err
	}
	src := &errdefs.Source{Info: sourceInfo(sm)}
	for _, e := range spec.Errors(err) {
		if e.Pos.Line > 0 {
			src.Ranges = append(src.Ranges, lineRange(e.Pos))
		}
	}
	if len(src.Ranges) == 0 {
		return err
	}
	return errdefs.WithSource(err, src)
}

func sourceInfo(sm *llb.SourceMap) *pb.SourceInfo {
	info := &pb.SourceInfo{Data: sm.Data, Filename: sm.Filename, Language: sm.Language}
	if sm.Definition != nil {
		info.Definition = sm.Definition.ToPB()
	}
	return info
}

func lineRange(p spec.Pos) *pb.Range {
	line := int32(p.Line)
	return &pb.Range{Start: &pb.Position{Line: line, Character: int32(p.Column)}, End: &pb.Position{Line: line}}
}
