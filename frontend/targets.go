package frontend

import (
	"context"
	"strings"

	"github.com/containerd/platforms"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

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
