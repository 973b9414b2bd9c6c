package frontend

import (
	"context"
	"strconv"
	"strings"
	"time"

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
	lines := strings.Split(string(data), "\n")
	for len(lines) < 3 {
		lines = append(lines, "")
	}
	if _, explicit := b.bc.BuildArgs[argVersion]; !explicit && lines[0] != "" {
		b.version = lines[0]
	}
	if b.commit == "" {
		b.commit = lines[1]
	}
	if sec, err := strconv.ParseInt(lines[2], 10, 64); err == nil {
		t := time.Unix(sec, 0).UTC()
		b.commitTime = &t
	}
	return nil
}
