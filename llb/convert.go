// Package llb translates a validated spec into BuildKit LLB states. It does
// no IO: images and contexts arrive as states through Options, so the same
// spec and options always give the same definition.
package llb

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Paths inside the builder. The caches use Go's own defaults so that the
// same cache mount ids serve hand-written Dockerfiles too.
const (
	srcDir      = "/src"
	outDir      = "/out"
	modCacheDir = "/go/pkg/mod"
	buildCache  = "/root/.cache/go-build"
	// builderGoroot is where golang images keep the distribution; the
	// static base takes its time zone database from there.
	builderGoroot = "/usr/local/go"
	caBundle      = "/etc/ssl/certs/ca-certificates.crt"
	// ZoneinfoPath is where the static base puts Go's time zone database;
	// the image's ZONEINFO variable points Go programs at it.
	ZoneinfoPath = "/usr/share/zoneinfo.zip"
)

// Options carries everything Convert needs from outside the spec.
type Options struct {
	// BuildPlatform is where the toolchain runs.
	BuildPlatform ocispecs.Platform
	// TargetPlatform is the platform of the image being built.
	TargetPlatform ocispecs.Platform
	// Context is the main build context, .dockerignore applied.
	Context bkllb.State
	// Builder is the toolchain image for BuildPlatform, its config applied.
	Builder bkllb.State
	// Base and BaseImage are the base image and its config when
	// image.base is an image reference.
	Base      *bkllb.State
	BaseImage *dockerspec.DockerOCIImage
	// Version and Commit fill the ldflags templates.
	Version string
	Commit  string
	// Epoch stamps every file and the image config. Nil means the Unix
	// epoch, so that images are reproducible by default.
	Epoch *time.Time
	// CacheNamespace prefixes cache mount ids (BUILDKIT_CACHE_MOUNT_NS).
	CacheNamespace string
	// SourceMap, when set, ties steps to the spec lines that caused them.
	SourceMap *bkllb.SourceMap
}

// Result is one platform's image.
type Result struct {
	State bkllb.State
	Image *dockerspec.DockerOCIImage
}

// Convert builds the LLB for one target platform: the module download, a
// cross-compiling go build per binary on the build platform, and the image.
func Convert(ctx context.Context, s *spec.Spec, opt Options) (*Result, error) {
	target := platforms.Normalize(opt.TargetPlatform)
	goEnv, err := spec.GoEnv(target.Architecture, target.Variant)
	if err != nil {
		return nil, fmt.Errorf("platform %s: %w", platforms.Format(target), err)
	}
	epoch := time.Unix(0, 0).UTC()
	if opt.Epoch != nil {
		epoch = opt.Epoch.UTC()
	}

	downloaded := download(s, opt)

	var bins []built
	for i, b := range s.Binaries {
		out, err := build(s, i, b, downloaded, goEnv, target, opt)
		if err != nil {
			return nil, err
		}
		bins = append(bins, built{name: b.Name, out: out})
	}

	binLayer := binariesLayer(bins, epoch, target)
	var layers []bkllb.State
	switch s.Image.Base {
	case spec.BaseStatic:
		layers = append(layers, StaticBase(opt.Builder, epoch))
	case spec.BaseScratch:
	default:
		if opt.Base == nil {
			return nil, fmt.Errorf("image.base %q was not resolved", s.Image.Base)
		}
		layers = append(layers, *opt.Base)
	}
	layers = append(layers, binLayer)
	st := layers[0]
	if len(layers) > 1 {
		// A merge keeps the base layer byte-identical across images and
		// platforms, so registries and caches store it once.
		st = bkllb.Merge(layers, bkllb.WithCustomName("assemble image ("+platforms.Format(target)+")"))
	}
	return &Result{State: st, Image: imageConfig(s, opt, target, epoch)}, nil
}

type built struct {
	name string
	out  bkllb.State
}

func cacheMount(opt Options, dir, id string) bkllb.RunOption {
	return bkllb.AddMount(dir, bkllb.Scratch(), bkllb.AsPersistentCacheDir(opt.CacheNamespace+id, bkllb.CacheMountShared))
}

// goCommandEnv is the environment every go command runs with, sorted so
// the definition does not depend on map order.
func goCommandEnv(s *spec.Spec, extra map[string]string) []bkllb.RunOption {
	env := map[string]string{
		"GOMODCACHE": modCacheDir,
		"GOCACHE":    buildCache,
		// The toolchain is the builder image's; never download another one
		// behind the user's back.
		"GOTOOLCHAIN": "local",
	}
	maps.Copy(env, s.Env)
	maps.Copy(env, extra)
	var opts []bkllb.RunOption
	for _, k := range slices.Sorted(maps.Keys(env)) {
		opts = append(opts, bkllb.AddEnv(k, env[k]))
	}
	return opts
}

// download fetches the module's dependencies from go.mod and go.sum alone,
// so a source change never invalidates it.
func download(s *spec.Spec, opt Options) bkllb.State {
	modFiles := bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/"+s.Module+"/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     []string{"go.mod", "go.sum", "go.work", "go.work.sum", "**/go.mod", "**/go.sum"},
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName("[internal] copy go.mod and go.sum"),
	)
	runOpts := []bkllb.RunOption{
		bkllb.Args([]string{"go", "mod", "download"}),
		bkllb.Dir(srcDir),
		bkllb.AddMount(srcDir, modFiles),
		cacheMount(opt, modCacheDir, "gobuild-gomodcache"),
		bkllb.WithCustomName("go mod download"),
		location(s, opt, "go"),
	}
	runOpts = append(runOpts, goCommandEnv(s, nil)...)
	return opt.Builder.Run(runOpts...).Root()
}

func build(s *spec.Spec, i int, b spec.Binary, root bkllb.State, goEnv map[string]string, target ocispecs.Platform, opt Options) (bkllb.State, error) {
	data := spec.TemplateData{
		Version: opt.Version,
		Commit:  opt.Commit,
		Target:  spec.Target{OS: target.OS, Arch: target.Architecture, Variant: target.Variant},
	}
	ldflags := []string{"-s", "-w"}
	for j, f := range b.Ldflags {
		v, err := spec.Render(f, data)
		if err != nil {
			return bkllb.State{}, fmt.Errorf("binaries[%d].ldflags[%d]: %w", i, j, err)
		}
		ldflags = append(ldflags, v)
	}
	args := []string{"go", "build", "-trimpath", "-buildvcs=false"}
	if len(b.Tags) > 0 {
		args = append(args, "-tags", strings.Join(b.Tags, ","))
	}
	args = append(args, "-ldflags", strings.Join(ldflags, " "), "-o", path.Join(outDir, b.Name), b.Package)

	env := map[string]string{"CGO_ENABLED": "0", "GOOS": target.OS}
	maps.Copy(env, goEnv)
	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		bkllb.Dir(path.Join(srcDir, s.Module)),
		bkllb.AddMount(srcDir, opt.Context, bkllb.Readonly),
		cacheMount(opt, modCacheDir, "gobuild-gomodcache"),
		cacheMount(opt, buildCache, "gobuild-gocache"),
		bkllb.WithCustomName(fmt.Sprintf("go build %s (%s)", b.Package, platforms.Format(target))),
		location(s, opt, "binaries", i),
	}
	runOpts = append(runOpts, goCommandEnv(s, env)...)
	run := root.Run(runOpts...)
	return run.AddMount(outDir, bkllb.Scratch()), nil
}

// binariesLayer holds every binary of the image in one layer, with fixed
// timestamps so that the layer digest depends on the binaries alone.
func binariesLayer(bins []built, epoch time.Time, target ocispecs.Platform) bkllb.State {
	fa := bkllb.Mkdir(spec.BinDir, 0o755, bkllb.WithParents(true))
	for _, b := range bins {
		fa = fa.Copy(b.out, "/"+b.name, path.Join(spec.BinDir, b.name))
	}
	tree := bkllb.Scratch().File(fa, bkllb.WithCustomName("[internal] collect binaries ("+platforms.Format(target)+")"))
	return stamped(tree, epoch, "copy binaries ("+platforms.Format(target)+")")
}

// stamped copies a tree into a new layer with every timestamp set to the
// epoch. Stamping each action is not enough: creating a file updates its
// directory's mtime to the wall clock, and the copy fixes directories
// only after their contents.
func stamped(tree bkllb.State, epoch time.Time, name string) bkllb.State {
	return bkllb.Scratch().File(
		bkllb.Copy(tree, "/", "/", &bkllb.CopyInfo{CopyDirContentsOnly: true, CreatedTime: &epoch}),
		bkllb.WithCustomName(name),
	)
}

// StaticBase is the default base layer: what a static Go program expects of
// a system (users, CA certificates, time zones, /tmp) and nothing else. It
// needs no image pull and is the same for every platform.
func StaticBase(builder bkllb.State, epoch time.Time) bkllb.State {
	// Mkdir drops the sticky bit, so /tmp is copied with an explicit mode.
	tmp := bkllb.Scratch().File(bkllb.Mkdir("/tmp", 0o755), bkllb.WithCustomName("[internal] make /tmp"))
	parents := bkllb.WithParents(true)
	fa := bkllb.Mkdir("/etc/ssl/certs", 0o755, parents).
		Mkfile("/etc/passwd", 0o644, []byte(passwd)).
		Mkfile("/etc/group", 0o644, []byte(group)).
		Copy(builder, caBundle, caBundle, &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o644}}).
		Mkdir("/usr/share", 0o755, parents).
		Copy(builder, path.Join(builderGoroot, "lib/time/zoneinfo.zip"), ZoneinfoPath, &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o644}}).
		Mkdir("/home/nonroot", 0o700, parents, bkllb.WithUIDGID(65532, 65532)).
		Copy(tmp, "/tmp", "/tmp", &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o1777}})
	tree := bkllb.Scratch().File(fa, bkllb.WithCustomName("[internal] assemble the static base"))
	return stamped(tree, epoch, "static base (passwd, CA certificates, time zones)")
}

const passwd = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`

const group = `root:x:0:
nobody:x:65534:
nonroot:x:65532:
`

// location ties a step to the spec entry that caused it, so a failing step
// shows the user its lines of gobuild.yaml.
func location(s *spec.Spec, opt Options, path ...any) bkllb.RunOption {
	if opt.SourceMap == nil {
		return bkllb.With() // nothing to point at
	}
	pos := s.Pos(path...)
	line := int32(pos.Line)
	return opt.SourceMap.Location([]*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}})
}
