package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gobuildkit/gobuild/internal/gitinfo"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
)

// gitDir is the git directory the frontend reads, at the context's root.
const gitDir = ".git"

// gitFiles are the files of gitDir that reading the history needs: the
// refs and the objects, not the index, logs or hooks (a large repository's
// index alone is megabytes).
var gitFiles = []string{
	".git/HEAD", ".git/packed-refs", ".git/shallow", ".git/refs",
	".git/objects/[0-9a-f][0-9a-f]", ".git/objects/pack/*.idx", ".git/objects/pack/*.pack",
}

// vcsNeeded reports whether the context's history must be read: for the
// version when VERSION is not given, for the commit when the client sent
// no vcs:revision, and for {{.Date}} and the created label, which are the
// commit time unless SOURCE_DATE_EPOCH is given.
func (b *builder) vcsNeeded() bool {
	return vcsGiven(b.buildArgs, b.commit).ReadsGit()
}

// vcsGiven says which stamps the client gives: the same answer for the
// build, which then reads .git for the others, and for --call=check, which
// warns when .dockerignore keeps them from it.
func vcsGiven(a buildArgs, commit string) spec.VCSGiven {
	return spec.VCSGiven{Version: a.explicitVersion, Commit: commit != "", Date: a.epoch != nil}
}

// readVCS reads the context's .git in the frontend: the builder image needs
// no git, and only .git is transferred, as much of it as the reading
// touches (go-git reads packs by ranges through gitFS). A context without
// a .git directory, or one whose history cannot be read, says why in the
// error.
func (b *builder) readVCS(ctx context.Context) (gitinfo.Info, error) {
	st, err := b.bc.MainContext(ctx, llb.IncludePatterns(gitFiles), dockerui.WithInternalName("load "+gitDir))
	if err != nil {
		return gitinfo.Info{}, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return gitinfo.Info{}, err
	}
	res, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return gitinfo.Info{}, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return gitinfo.Info{}, err
	}
	if _, err := ref.StatFile(ctx, client.StatRequest{Path: gitDir + "/HEAD"}); err != nil {
		return gitinfo.Info{}, errors.New("the build context has no .git directory (not a git checkout; a worktree or submodule, whose history is outside the context; or .dockerignore excludes .git)")
	}
	info, err := gitinfo.Read(newGitFS(ctx, ref, gitDir))
	if err != nil {
		return info, fmt.Errorf("reading the build context's .git: %w", err)
	}
	return info, nil
}

// useVCS fills what the client did not say (VERSION, vcs:revision) from
// what readVCS found, and tells the user what stays unknown: a version of
// "dev" is a warning, a commit that a template needs is an error at the
// template's line, never an empty string.
func (b *builder) useVCS(ctx context.Context, info gitinfo.Info, readErr error) error {
	why := "unknown"
	if readErr != nil {
		why = readErr.Error()
	}
	if !b.explicitVersion {
		if info.Version != "" {
			b.version = info.Version
		} else {
			b.warn(ctx, "Version", fmt.Sprintf("{{.Version}} is %q: %s; pass --build-arg VERSION=... or build a git checkout", b.version, why))
		}
	}
	if b.commit == "" {
		b.commit = info.Commit
	}
	b.commitTime = info.CommitTime
	if b.commit == "" {
		var errs []error
		for _, field := range []string{"Commit", "ShortCommit"} {
			for _, pos := range b.spec.TemplateFieldUses(field) {
				errs = append(errs, &spec.Error{Filename: b.spec.Filename(), Pos: pos, Msg: fmt.Sprintf(
					"{{.%s}} is unknown: %s; pass the commit with --opt vcs:revision=... (buildx sends it for a git checkout)", field, why)})
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	if b.epoch == nil && b.commitTime == nil && len(b.spec.TemplateFieldUses("Date")) > 0 {
		b.warn(ctx, "Date", fmt.Sprintf("{{.Date}} is the Unix epoch: the commit time is %s; pass --build-arg SOURCE_DATE_EPOCH=...", why))
	}
	return nil
}

// warn shows msg to the user, at the lines of the templates that read
// field, if any.
func (b *builder) warn(ctx context.Context, field, msg string) {
	if b.src.Warn == nil {
		return
	}
	var ranges []*pb.Range
	for _, pos := range b.spec.TemplateFieldUses(field) {
		ranges = append(ranges, lineRange(pos))
	}
	b.src.Warn(ctx, strings.TrimSpace(msg), client.WarnOpts{Range: ranges})
}
