package frontend

import (
	"context"
	"fmt"
	"maps"
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

// vcsFields are the template fields whose values may come from .git.
var vcsFields = []string{"Version", "Commit", "ShortCommit", "Date"}

// pendingPartition is the partition's solve, under way.
type pendingPartition struct {
	done chan struct{}
	name string
	err  error
}

// askPartition starts the partition's solve. It may run while the
// context is still read, so it takes only what Partition reads and what
// is known once go.mod and the builder image are: the build platform, the
// builder and the template data (whose VCS fields a template of the module
// settings reads only when the solve starts after .git is read).
func (b *builder) askPartition(ctx context.Context) *pendingPartition {
	opt := gbllb.Options{
		BuildPlatform:  b.buildPlatform,
		Builder:        b.builderImage,
		PrebuiltHelper: b.prebuiltHelper(),
		Version:        b.version,
		Commit:         b.commit,
		CommitTime:     b.commitTime,
		Epoch:          b.epoch,
		Args:           maps.Clone(b.bc.BuildArgs),
	}
	p := &pendingPartition{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.name, p.err = modulePartition(ctx, b.c, b.bc.CacheImports, b.spec, opt)
	}()
	return p
}

func (p *pendingPartition) wait() (string, error) {
	<-p.done
	return p.name, p.err
}

// buildInPartition builds t once the partition's name is known. A build
// that only credentials could take out of the shared partition starts
// there at once, beside the partition's solve: the shared partition's
// steps mount no credentials, so this is the build any client could run
// (docs/design.md, "Shared builders"), and on an edit go build no longer
// waits for the partition's container. If the name comes back another,
// that build is canceled and t is built again in its partition.
func (b *builder) buildInPartition(ctx context.Context, t target, partition *pendingPartition) (*client.Result, error) {
	var early *sharedBuild
	if t.startsShared {
		shared, err := gbllb.SharedUnlessCredentials(b.spec, b.options(b.buildPlatform))
		if err != nil {
			return nil, err
		}
		if shared {
			early = b.startShared(ctx, t)
		}
	}
	name, err := partition.wait()
	if err != nil {
		early.stop()
		return nil, err
	}
	if name == gbllb.SharedPartition && early != nil {
		// Its context lives on with the build's (whose end cancels it):
		// canceled now, it would mark the steps BuildKit still loads for
		// the export canceled.
		return early.result()
	}
	// Stopped before this build starts, so that the two never run side
	// by side. This build's steps run only when the result is exported,
	// so what the two share (the context's transfer, the builder image)
	// is asked for again either way.
	early.stop()
	b.partition = name
	return t.build(b, ctx)
}

// sharedBuild is a build started in the shared partition, under way.
type sharedBuild struct {
	cancel context.CancelFunc
	done   chan struct{}
	res    *client.Result
	err    error
}

// startShared builds t in the shared partition with every solve run to
// its end, so that the steps start now rather than when the result is
// exported.
func (b *builder) startShared(ctx context.Context, t target) *sharedBuild {
	ctx, cancel := context.WithCancel(ctx)
	e := &sharedBuild{cancel: cancel, done: make(chan struct{})}
	shared := *b
	shared.partition, shared.evaluate = gbllb.SharedPartition, true
	go func() {
		defer close(e.done)
		e.res, e.err = t.build(&shared, ctx)
	}()
	return e
}

func (e *sharedBuild) result() (*client.Result, error) {
	<-e.done
	return e.res, e.err
}

// stop cancels the build and waits for it to end; nil does nothing.
func (e *sharedBuild) stop() {
	if e == nil {
		return
	}
	e.cancel()
	<-e.done
}
