package frontend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// maxLinkHops bounds how many symlinks a path may go through, as the
// kernel's ELOOP does.
const maxLinkHops = 40

// statFunc returns the entry at name of the context without following a
// symlink there, nil when there is none.
type statFunc func(ctx context.Context, names []string) (map[string]*fstypes.Stat, error)

// checkFiles makes sure that every image.files src is in the context:
// the copy would otherwise fail with BuildKit's checksum error and no
// spec line. A src that is a symlink is followed (the copy follows it
// too) while it stays inside the context; one that leaves it, which the
// copy would put into the image as a dangling link, is refused.
func (b *builder) checkFiles(ctx context.Context) error {
	s := b.spec
	if len(s.Image.Files) == 0 {
		return nil
	}
	stat := func(ctx context.Context, names []string) (map[string]*fstypes.Stat, error) {
		return b.statContext(ctx, b.excludes, names)
	}
	var srcs []string
	for _, f := range s.Image.Files {
		srcs = append(srcs, path.Clean(strings.TrimPrefix(f.Src, "./")))
	}
	found, err := stat(ctx, srcs) // one transfer for the usual case
	if err != nil {
		return err
	}
	var errs []error
	for i, src := range srcs {
		if src == "." {
			continue // the whole context
		}
		if err := resolveInContext(ctx, stat, src, found[src]); err != nil {
			errs = append(errs, s.ErrorAt([]any{"image", "files", i, "src"}, "image.files[%d].src %s %v", i, s.Image.Files[i].Src, err))
		}
	}
	return errors.Join(errs...)
}

// errNotInContext and errLeavesContext say why a path cannot be copied.
var (
	errNotInContext  = errors.New("is not in the build context (is it missing, or excluded by .dockerignore?)")
	errLeavesContext = errors.New("leaves the build context, which is all the build sees")
)

// resolveInContext follows name, whose entry is st (nil for none),
// through its symlinks and reports whether it ends at an entry inside the
// context.
func resolveInContext(ctx context.Context, stat statFunc, name string, st *fstypes.Stat) error {
	at := name
	for hop := range maxLinkHops {
		if hop > 0 {
			found, err := stat(ctx, []string{at})
			if err != nil {
				return err
			}
			st = found[at]
		}
		if st == nil {
			if at != name {
				return fmt.Errorf("links to %s, which %w", at, errNotInContext)
			}
			return errNotInContext
		}
		if os.FileMode(st.Mode)&os.ModeSymlink == 0 {
			return nil
		}
		target := st.Linkname
		next := path.Join(path.Dir(at), target)
		if path.IsAbs(target) || next == ".." || strings.HasPrefix(next, "../") {
			return fmt.Errorf("is a symlink to %s, which %w; copy what it names into the context", target, errLeavesContext)
		}
		at = next
	}
	return fmt.Errorf("goes through more than %d symlinks", maxLinkHops)
}

// statContext transfers the entries at names from the context, without
// the contents of directories, and returns what it finds there. A name
// is not followed through a symlink of its own.
func (b *builder) statContext(ctx context.Context, excludes, names []string) (map[string]*fstypes.Stat, error) {
	ex := excludes
	for _, n := range names {
		ex = append(ex[:len(ex):len(ex)], n+"/*") // the entry, not its tree
	}
	st, err := b.bc.MainContext(ctx, llb.IncludePatterns(names), llb.ExcludePatterns(ex), dockerui.WithInternalName("check image.files"))
	if err != nil {
		return nil, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	found := map[string]*fstypes.Stat{}
	for _, n := range names {
		entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: path.Dir(n), IncludePattern: path.Base(n)})
		if err != nil {
			continue // the parent is missing
		}
		for _, e := range entries {
			if e.GetPath() == path.Base(n) {
				found[n] = e
			}
		}
	}
	return found, nil
}
