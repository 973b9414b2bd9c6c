package frontend

import (
	"context"
	"sync"

	"github.com/containerd/platforms"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// buildImage builds the image target: one image per target platform, with
// the annotations the spec asks for on each manifest.
func (b *builder) buildImage(ctx context.Context) (*client.Result, error) {
	return b.buildImages(ctx, gbllb.Convert)
}

// buildDebug builds the debug target: the image, ready for delve.
func (b *builder) buildDebug(ctx context.Context) (*client.Result, error) {
	return b.buildImages(ctx, gbllb.Debug)
}

// buildImages builds one image per target platform with convert.
func (b *builder) buildImages(ctx context.Context, convert func(context.Context, *spec.Spec, gbllb.Options) (*gbllb.Result, error)) (*client.Result, error) {
	s, bc := b.spec, b.bc
	withSBOM, err := ownSBOM(b.c.BuildOpts().Opts)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var sbomTargets sync.Map
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
				return nil, s.ErrorAt(s.BasePath(target), "loading base image %s for %s: %v", base, platforms.Format(target), err)
			}
			opt.Base, opt.BaseImage = &st, img
		}
		res, err := convert(ctx, s, opt)
		if err != nil {
			return nil, err
		}
		ref, err := b.solve(ctx, res.State, target, false)
		if err != nil {
			return nil, err
		}
		if withSBOM {
			// Keyed as dockerui keys the platforms it exports.
			p := platforms.DefaultSpec()
			if platform != nil {
				p = *platform
			}
			sbomTargets.Store(platforms.FormatAll(platforms.Normalize(p)), sbomTarget{platform: platforms.Format(target), ref: ref, result: res, date: opt.Date()})
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
	if withSBOM {
		if err := b.attachSBOMs(ctx, rb, &sbomTargets); err != nil {
			return nil, err
		}
	}
	return rb.Finalize()
}
