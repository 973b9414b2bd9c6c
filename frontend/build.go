// Package frontend is the BuildKit gateway side of gobuild: it reads the
// client's options through dockerui, loads the spec and the images it
// names, and hands each target platform to the pure llb package.
package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Build-args the frontend reads.
const (
	argVersion         = "VERSION"
	argSourceDateEpoch = "SOURCE_DATE_EPOCH"
	// keyVCSRevision is set by buildx when the context is a git checkout.
	keyVCSRevision = "vcs:revision"
	keyFilename    = "filename"
	defaultVersion = "dev"
)

// Build is the frontend's entry point, run by the gateway for each build.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	c = withDefaultFilename{c}
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "YAML")
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(src.Filename, src.Data)
	if err != nil {
		return nil, withSpecSource(err, src.SourceMap)
	}
	if res, handled, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{}); err != nil || handled {
		return res, err
	}

	goMod, err := readContextFile(ctx, c, bc, s.ModFile())
	if err != nil {
		return nil, fmt.Errorf("reading %s from the build context: %w; the spec's module field must name the directory holding go.mod", s.ModFile(), err)
	}
	if err := s.ApplyDefaults(goMod); err != nil {
		return nil, err
	}

	if len(bc.TargetPlatforms) == 0 && len(s.Platforms) > 0 {
		for _, p := range s.Platforms {
			bc.TargetPlatforms = append(bc.TargetPlatforms, platforms.Normalize(platforms.MustParse(p)))
		}
		bc.MultiPlatformRequested = bc.MultiPlatformRequested || len(bc.TargetPlatforms) > 1
	}
	epoch, err := sourceDateEpoch(bc.BuildArgs)
	if err != nil {
		return nil, err
	}
	version := bc.BuildArgs[argVersion]
	if version == "" {
		version = defaultVersion
	}

	buildPlatform := bc.BuildPlatforms[0]
	builder, _, err := loadImage(ctx, c, bc, s.Builder, buildPlatform)
	if err != nil {
		return nil, fmt.Errorf("loading the builder image %s: %w", s.Builder, err)
	}
	mainContext, err := bc.MainContext(ctx)
	if err != nil {
		return nil, err
	}

	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		target := buildPlatform
		if platform != nil {
			target = *platform
		}
		opt := gbllb.Options{
			BuildPlatform:  buildPlatform,
			TargetPlatform: target,
			Context:        *mainContext,
			Builder:        builder,
			Version:        version,
			Commit:         bc.BuildOpts().Opts[keyVCSRevision],
			Epoch:          epoch,
			CacheNamespace: bc.CacheIDNamespace,
			SourceMap:      src.SourceMap,
		}
		switch s.Image.Base {
		case spec.BaseStatic, spec.BaseScratch:
		default:
			base, img, err := loadImage(ctx, c, bc, s.Image.Base, target)
			if err != nil {
				return nil, withSpecSource(s.ErrorAt([]any{"image", "base"}, "loading image.base %s for %s: %v", s.Image.Base, platforms.Format(target), err), src.SourceMap)
			}
			opt.Base, opt.BaseImage = &base, img
		}
		res, err := gbllb.Convert(ctx, s, opt)
		if err != nil {
			return nil, err
		}
		def, err := res.State.Marshal(ctx, llb.Platform(target))
		if err != nil {
			return nil, fmt.Errorf("marshaling the build for %s: %w", platforms.Format(target), err)
		}
		r, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: bc.CacheImports})
		if err != nil {
			return nil, err
		}
		ref, err := r.SingleRef()
		if err != nil {
			return nil, err
		}
		return &dockerui.BuildResult{Reference: ref, Image: res.Image, BaseImage: opt.BaseImage, Epoch: epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// withDefaultFilename makes gobuild.yaml the spec's default name, the way
// the Dockerfile frontend defaults to Dockerfile.
type withDefaultFilename struct{ client.Client }

func (c withDefaultFilename) BuildOpts() client.BuildOpts {
	opts := c.Client.BuildOpts()
	if opts.Opts[keyFilename] == "" {
		m := make(map[string]string, len(opts.Opts)+1)
		for k, v := range opts.Opts {
			m[k] = v
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
	if sm == nil {
		return err
	}
	src := &errdefs.Source{Info: &pb.SourceInfo{Data: sm.Data, Filename: sm.Filename, Language: sm.Language}}
	if sm.Definition != nil {
		src.Info.Definition = sm.Definition.ToPB()
	}
	for _, e := range spec.Errors(err) {
		if e.Pos.Line > 0 {
			line := int32(e.Pos.Line)
			src.Ranges = append(src.Ranges, &pb.Range{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}})
		}
	}
	if len(src.Ranges) == 0 {
		return err
	}
	return errdefs.WithSource(err, src)
}
