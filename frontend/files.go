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
	stat := b.contextStat()
	srcs := map[int]string{}
	var names []string
	for i, f := range s.Image.Files {
		if src := path.Clean(f.Src); src != "." { // "." is the whole context
			srcs[i] = src
			names = append(names, src)
		}
	}
	found, err := stat(ctx, names) // one transfer for the usual case
	if err != nil {
		return err
	}
	var errs []error
	for i := range s.Image.Files {
		src, ok := srcs[i]
		if !ok {
			continue
		}
		if err := resolveInContext(ctx, stat, src, found[src]); err != nil {
			errs = append(errs, s.ErrorAt([]any{"image", "files", i, "src"}, "image.files[%d].src: %v", i, err))
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
	if st != nil && os.FileMode(st.Mode)&os.ModeSymlink == 0 {
		return nil // the usual case, known from the first transfer
	}
	// A link, or nothing where a parent directory is a link.
	resolved, links, err := resolvePath(ctx, stat, name)
	if err != nil {
		return err
	}
	if len(links) == 0 {
		return fmt.Errorf("%s %w", name, errNotInContext)
	}
	found, err := stat(ctx, []string{resolved})
	if err != nil {
		return err
	}
	if found[resolved] == nil {
		return fmt.Errorf("%s links to %s, which %w", name, resolved, errNotInContext)
	}
	return nil
}

// resolvePath follows the symlinks along name, a path of the context, as
// the kernel does, and returns the path it leads to and the links it went
// through. A link that leads out of the context is an error naming it. A
// missing element ends the walk: the rest of name is kept as it is.
func resolvePath(ctx context.Context, stat statFunc, name string) (string, []string, error) {
	rest := strings.Split(name, "/")
	cur := "."
	var links, targets []string
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		next := path.Join(cur, part)
		if next == ".." || strings.HasPrefix(next, "../") {
			// Only a link's target climbs: package and src paths are
			// validated to stay inside.
			last := len(links) - 1
			return "", links, leaves(links[last], targets[last])
		}
		if part == "." || part == ".." || part == "" {
			cur = next
			continue
		}
		found, err := stat(ctx, []string{next})
		if err != nil {
			return "", links, err
		}
		st := found[next]
		if st == nil {
			return path.Join(append([]string{next}, rest...)...), links, nil
		}
		if os.FileMode(st.Mode)&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		links, targets = append(links, next), append(targets, st.Linkname)
		if len(links) > maxLinkHops {
			return "", links, fmt.Errorf("%s goes through more than %d symlinks", name, maxLinkHops)
		}
		if path.IsAbs(st.Linkname) {
			return "", links, leaves(next, st.Linkname)
		}
		rest = append(strings.Split(st.Linkname, "/"), rest...)
	}
	return cur, links, nil
}

func leaves(link, target string) error {
	return fmt.Errorf("%s is a symlink to %s, which %w; copy what it names into the context", link, target, errLeavesContext)
}

// contextStat is statContext for resolvePath, with the main context's
// excludes.
func (b *builder) contextStat() statFunc {
	return func(ctx context.Context, names []string) (map[string]*fstypes.Stat, error) {
		return b.statContext(ctx, b.excludes, names)
	}
}

// moduleLinks are the module's go.mod and go.sum where they are symlinks
// (which the go command follows), the links they go through and the
// paths they lead to; one that leaves the context is an error at module.
func (b *builder) moduleLinks(ctx context.Context, modDir string) ([]string, error) {
	s, stat := b.spec, b.contextStat()
	names := []string{path.Join(modDir, "go.mod"), path.Join(modDir, "go.sum")}
	found, err := stat(ctx, names)
	if err != nil {
		return nil, err
	}
	var links []string
	for _, name := range names {
		if st := found[name]; st == nil || os.FileMode(st.Mode)&os.ModeSymlink == 0 {
			continue
		}
		resolved, through, err := resolvePath(ctx, stat, name)
		if err != nil {
			return nil, s.ErrorAt([]any{"module"}, "%v", err)
		}
		links = append(append(links, through...), resolved)
	}
	return links, nil
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
