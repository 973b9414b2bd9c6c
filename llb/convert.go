// Package llb translates a spec whose defaults are filled
// (spec.FillDefaults) into BuildKit LLB states. It does no IO: images and
// contexts arrive as states through Options, so the same spec and options
// always give the same definition.
//
// Like BuildKit's dockerfile2llb, Convert is the dispatch and each concern
// has a file of its own: modules.go downloads the modules, sources.go picks
// the files go build reads, gobuild.go runs go build, base.go assembles the
// image on its base and derives its config, gotest.go runs go test and go
// vet, credentials.go mounts what private modules need. The version,
// commit and commit time arrive in Options: the frontend reads them from
// the context's .git.
package llb

import (
	"context"
	"path"
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
	srcDir = "/src"
	outDir = "/out"
	// go build writes into goOutDir, inside outDir, from where the helper
	// moves the binaries to their places in the layer without a copy.
	goOutName   = ".gobuild"
	goOutDir    = outDir + "/" + goOutName
	modCacheDir = "/go/pkg/mod"
	// reachedModCacheDir holds the layer of the module packages go build
	// reaches, whose one directory the helper makes go's module cache.
	reachedModCacheDir = "/gobuild/modcache"
	buildCache         = "/root/.cache/go-build"
)

// Options carries everything Convert needs from outside the spec.
type Options struct {
	// BuildPlatform is where the toolchain runs.
	BuildPlatform ocispecs.Platform
	// TargetPlatform is the platform of the image being built.
	TargetPlatform ocispecs.Platform
	// TargetPlatforms are all the platforms the build makes: go build
	// reads one layer of the standard library's sources for them all
	// (llb/stdsources.go).
	TargetPlatforms []ocispecs.Platform
	// Context is the main build context, .dockerignore applied.
	Context bkllb.State
	// Builder is the toolchain image for BuildPlatform, its config applied.
	Builder bkllb.State
	// Goroot is where the builder image keeps the Go distribution its go
	// runs from, when the frontend knows it: with CacheImported, go build
	// then runs on a layer of it (llb/toolchain.go). Empty runs every step
	// on the whole builder.
	Goroot string
	// MountsKeyedByContent says the daemon cannot key a step on a
	// read-only mount's step (it lacks the exec.mount.cache.content
	// capability), so that the definition does not ask it to.
	MountsKeyedByContent bool
	// VulnDB is the vulnerability database the vuln target reads
	// (GOVULNDB); DefaultVulnDB when empty.
	VulnDB string
	// PrebuiltHelper, when set, is a state (the frontend's own image)
	// whose PrebuiltHelperDir holds the helper built for BuildPlatform;
	// without it the builder's go compiles the helper first.
	PrebuiltHelper *bkllb.State
	// Base and BaseImage are the base image and its config when the base
	// for TargetPlatform is an image reference.
	Base      *bkllb.State
	BaseImage *dockerspec.DockerOCIImage
	// Version, Commit and Args fill the templates.
	Version string
	Commit  string
	Args    map[string]string
	// Labels are the client's own labels (buildx --label), laid over the
	// spec's as buildx's --label overrides a Dockerfile's LABEL.
	Labels map[string]string
	// ModulePath is the main module's path (go.mod's module line): with
	// the module's directory, the project whose build cache the steps that
	// run its code use.
	ModulePath string
	// ModulePartition names the build's partition of the shared module
	// cache, as Partition's helper wrote it; empty is SharedPartition.
	ModulePartition string
	// Source is the repository the context came from (buildx's vcs:source),
	// for the org.opencontainers.image.source label.
	Source string
	// Epoch stamps every file and the image config. Nil means the Unix
	// epoch, so that images are reproducible by default.
	Epoch *time.Time
	// CommitTime is when the context's commit was made, if known: {{.Date}}
	// without SOURCE_DATE_EPOCH.
	CommitTime *time.Time
	// CacheNamespace prefixes cache mount ids (BUILDKIT_CACHE_MOUNT_NS).
	CacheNamespace string
	// SourceMap, when set, ties steps to the spec lines that caused them.
	SourceMap *bkllb.SourceMap
	// GoMod, when set, is go.mod as a source, and GoModRanges its
	// directives that decide what go mod download fetches (go, toolchain,
	// require, replace), so that a failing download shows them.
	GoMod       *bkllb.SourceMap
	GoModRanges []*pb.Range
	// ModuleCache is where downloaded modules live between builds.
	ModuleCache ModuleCache
	// Modules is what the frontend read of vendor/, go.work and the
	// modules go.mod replaces with directories.
	Modules ModuleFiles
	// Imports, when set, is what the context's .go files import: the
	// dependency layer compiles what the binaries import from outside the
	// module (llb/deps.go). Nil makes no layer.
	Imports *Imports
	// ProfileDirs are the directories of the context holding a
	// default.pgo, which go build -pgo=auto (go's default) applies to a
	// main package there and to everything it imports.
	ProfileDirs []string
	// DependencyCache is which compiled dependencies travel as layers;
	// the zero value is DependencyCacheAuto.
	DependencyCache DependencyCache
	// CacheImported says the client imports caches (--cache-from): a
	// dependency layer may then come from outside this builder, so the
	// steps that copy layers into a build cache use the project's own.
	CacheImported bool
	// Sources, when set, narrows what go build sees of Context to the
	// files the go command reads. Nil gives it the whole context.
	Sources *SourceSet
}

func (opt Options) epoch() time.Time {
	if opt.Epoch != nil {
		return opt.Epoch.UTC()
	}
	return time.Unix(0, 0).UTC()
}

// Date is the build's date for templates, labels and the SBOM:
// SOURCE_DATE_EPOCH, else the commit time, else the Unix epoch; never the
// wall clock.
func (opt Options) Date() time.Time {
	if opt.Epoch == nil && opt.CommitTime != nil {
		return opt.CommitTime.UTC()
	}
	return opt.epoch()
}

// templateData is what the spec's templates see for one target platform.
func (opt Options) templateData(target ocispecs.Platform) spec.TemplateData {
	short := opt.Commit
	if len(short) > spec.ShortCommitLen {
		short = short[:spec.ShortCommitLen]
	}
	return spec.TemplateData{
		Version:     opt.Version,
		Commit:      opt.Commit,
		ShortCommit: short,
		Date:        opt.Date().Format(time.RFC3339),
		Args:        opt.Args,
		Target:      spec.Target{OS: target.OS, Arch: target.Architecture, Variant: target.Variant},
	}
}

// Result is one platform's image.
type Result struct {
	State bkllb.State
	Image *dockerspec.DockerOCIImage
	// Annotations go on the platform's manifest.
	Annotations map[string]string
	// Binaries are the binaries' paths in the image.
	Binaries []string
	// BaseFiles are the files of the static base that came from the
	// builder image, for the SBOM.
	BaseFiles []BaseFile
}

// BaseFile is a file of the static base and where it came from.
type BaseFile struct {
	Name, Path string
	// FromBuilder is the file in the builder image it was copied from.
	FromBuilder string
}

// Convert builds the LLB for one target platform: the module download, a
// cross-compiling go build per binary on the build platform, and the image.
func Convert(ctx context.Context, s *spec.Spec, opt Options) (*Result, error) {
	if !s.Filled() {
		return nil, spec.ErrNotFilled
	}
	target := platforms.Normalize(opt.TargetPlatform)
	bins, err := Binaries(s, opt)
	if err != nil {
		return nil, err
	}
	data := opt.templateData(target)
	s, err = s.Rendered(data, spec.PartImage)
	if err != nil {
		return nil, err
	}
	st, err := imageLayers(s, opt, target, bins)
	if err != nil {
		return nil, err
	}
	img := imageConfig(s, opt, target, data, bins)
	annotations := s.Image.Annotations
	if annotations == nil {
		annotations = map[string]string{}
	}
	res := &Result{State: st, Image: img, Annotations: annotations}
	for _, b := range bins {
		res.Binaries = append(res.Binaries, path.Join(spec.BinDir, b.Name))
	}
	if s.BaseFor(target) == spec.BaseStatic {
		if *s.Image.Cacerts {
			res.BaseFiles = append(res.BaseFiles, BaseFile{"ca-certificates.crt", caBundle, caBundle})
		}
		if *s.Image.Tzdata {
			res.BaseFiles = append(res.BaseFiles, BaseFile{"zoneinfo.zip", ZoneinfoPath, path.Join(DefaultGoroot, "lib/time/zoneinfo.zip")})
		}
	}
	return res, nil
}

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
