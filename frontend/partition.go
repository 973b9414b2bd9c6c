package frontend

import (
	"context"
	"fmt"
	"strings"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// modulePartition asks the builder, with the client's credentials, which
// partition of the shared module cache this build uses (llb/isolation.go).
// It is a solve of its own, before the build's definition exists, because
// the name goes into that definition: BuildKit then never serves one
// partition's download or go build to a build with other credentials.
// The client's cache imports let a fresh builder take the helper it runs
// from a registry cache (the build's go builds run it too, so it is there).
func modulePartition(ctx context.Context, c client.Client, cacheImports []client.CacheOptionsEntry, s *spec.Spec, opt gbllb.Options) (string, error) {
	st, err := gbllb.Partition(s, opt)
	if err != nil {
		return "", err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return "", err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), CacheImports: cacheImports})
	if err != nil {
		return "", fmt.Errorf("naming the module cache partition: %w", err)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return "", err
	}
	data, err := ref.ReadFile(ctx, client.ReadRequest{Filename: gbllb.PartitionFile})
	if err != nil {
		return "", fmt.Errorf("naming the module cache partition: %w", err)
	}
	name := strings.TrimSpace(string(data))
	return name, gbllb.CheckPartition(name)
}
