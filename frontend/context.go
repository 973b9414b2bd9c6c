package frontend

import (
	"context"
	"encoding/json"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// loadMainContext sets the main context the go commands see and returns
// the patterns it excludes. Nothing in a build reads .git unless a binary
// stamps VCS data, so it stays out of the go commands' view: a commit,
// fetch or checkout of another branch with the same sources keeps every
// step cached.
func (b *builder) loadMainContext(ctx context.Context) ([]string, error) {
	excludes, err := b.bc.DockerIgnorePatterns(ctx)
	if err != nil {
		return nil, err
	}
	if !b.spec.UsesBuildvcs() {
		excludes = append(excludes, ".git")
	}
	mc, err := b.bc.MainContext(ctx, llb.ExcludePatterns(excludes))
	if err != nil {
		return nil, err
	}
	b.mainContext = *mc
	return excludes, nil
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

// readContextFiles reads files of the main context in one transfer of
// only those files. A file that is missing (or excluded by .dockerignore)
// is absent from the result.
func readContextFiles(ctx context.Context, c client.Client, bc *dockerui.Client, what string, names []string) (map[string][]byte, error) {
	found := map[string][]byte{}
	if len(names) == 0 {
		return found, nil
	}
	st, err := bc.MainContext(ctx, llb.FollowPaths(names), dockerui.WithInternalName(what))
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
	for _, name := range names {
		if data, err := ref.ReadFile(ctx, client.ReadRequest{Filename: name}); err == nil {
			found[name] = data
		}
	}
	return found, nil
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
