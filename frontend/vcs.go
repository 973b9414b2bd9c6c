package frontend

import (
	"context"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
)

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
	info := gbllb.ParseVCS(data)
	if !b.explicitVersion && info.Version != "" {
		b.version = info.Version
	}
	if b.commit == "" {
		b.commit = info.Commit
	}
	b.commitTime = info.CommitTime
	return nil
}
