package frontend

import (
	"os"
	"path"

	"github.com/containerd/platforms"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// frontendImage is the image this frontend runs from, when BuildKit's
// gateway started it from one (the gRPC client reads the definition the
// gateway mounts) and the image holds the helper. The gobuild CLI runs the
// frontend in its own process: none then.
func frontendImage(c client.Client) *llb.State {
	current, ok := c.(interface{ CurrentFrontend() (*llb.State, error) })
	if !ok {
		return nil
	}
	if _, err := os.Stat(path.Join(gbllb.PrebuiltHelperDir, "gobuild-helper")); err != nil {
		return nil
	}
	st, err := current.CurrentFrontend()
	if err != nil {
		return nil
	}
	return st
}

// prebuiltHelper is the frontend image when its helper runs on the build
// platform: the image holds the helper for its own platform, which is
// the worker's unless the frontend runs emulated.
func (b *builder) prebuiltHelper() *llb.State {
	if b.frontendImage == nil || !platforms.Only(b.buildPlatform).Match(platforms.Normalize(platforms.DefaultSpec())) {
		return nil
	}
	return b.frontendImage
}
