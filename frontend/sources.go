package frontend

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"golang.org/x/sync/errgroup"
)

// scanSources reads every .go file of the context (nothing else is
// transferred for it); checkSources then learns two things before anything
// is compiled:
// whether each binary's package is a main package, and which files the
// //go:embed directives name. The second lets go build see only what the
// go command reads, so an edit to docs or other unrelated files leaves
// the build cached.
func (b *builder) scanSources(ctx context.Context, excludes []string) error {
	// go.mod files too: a package below one is another module's.
	st, err := b.bc.MainContext(ctx,
		// default.pgo: go build -pgo=auto compiles every dependency of a
		// main package beside one with it (llb/deps.go).
		llb.IncludePatterns([]string{"**/*.go", "**/go.mod", "**/default.pgo"}),
		llb.ExcludePatterns(excludes),
		dockerui.WithInternalName("load the Go files"))
	if err != nil {
		return err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	res, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return err
	}
	var moduleDirs []string
	if b.goFiles, moduleDirs, b.profileDirs, err = readGoFiles(ctx, ref); err != nil {
		return err
	}
	b.imports = gbllb.ReadImports(b.goFiles, moduleDirs...)
	return nil
}

// checkSources checks the scanned packages against the spec and narrows
// what go build sees; it runs once the spec's defaults are filled.
func (b *builder) checkSources(ctx context.Context) error {
	links, err := b.checkPackages(ctx, b.goFiles)
	if err != nil {
		return err
	}
	embeds, ok := gbllb.EmbedPatterns(b.goFiles)
	if ok && !b.spec.UsesCgo() {
		// cgo directives may name any file (-I${SRCDIR}/include), so only
		// pure Go builds are narrowed.
		b.sources = &gbllb.SourceSet{Embeds: embeds, Links: links}
	}
	return nil
}

// readGoFiles walks the scanned context and reads its .go files in
// parallel, by directory, and names the directories holding a go.mod and
// those holding a default.pgo.
// Directories the go command never looks into (hidden, _-prefixed,
// testdata, vendor) are skipped; vendor is handed to the build whole.
func readGoFiles(ctx context.Context, ref client.Reference) (map[string][]gbllb.GoFile, []string, []string, error) {
	var (
		mu          sync.Mutex
		files       = map[string][]gbllb.GoFile{}
		moduleDirs  []string
		profileDirs []string
		g, gctx     = errgroup.WithContext(ctx)
	)
	g.SetLimit(16)
	// A directory is read in a goroutine of its own while one is free and
	// in its parent's otherwise, so a deep tree cannot exhaust the limit.
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := ref.ReadDir(gctx, client.ReadDirRequest{Path: dir})
		if err != nil {
			return fmt.Errorf("reading %s of the build context: %w", dir, err)
		}
		var read []gbllb.GoFile
		for _, e := range entries {
			name := e.GetPath()
			if e.IsDir() {
				if skippedDir(name) {
					continue
				}
				sub := path.Join(dir, name)
				if !g.TryGo(func() error { return walk(sub) }) {
					if err := walk(sub); err != nil {
						return err
					}
				}
				continue
			}
			if name == "go.mod" || name == "default.pgo" {
				mu.Lock()
				if name == "go.mod" {
					moduleDirs = append(moduleDirs, dir)
				} else {
					profileDirs = append(profileDirs, dir)
				}
				mu.Unlock()
				continue
			}
			if !strings.HasSuffix(name, ".go") {
				continue
			}
			data, err := ref.ReadFile(gctx, client.ReadRequest{Filename: path.Join(dir, name)})
			if err != nil {
				return fmt.Errorf("reading %s of the build context: %w", path.Join(dir, name), err)
			}
			read = append(read, gbllb.GoFile{Name: name, Data: data})
		}
		if len(read) > 0 {
			mu.Lock()
			files[dir] = read
			mu.Unlock()
		}
		return nil
	}
	g.Go(func() error { return walk(".") })
	err := g.Wait()
	slices.Sort(moduleDirs)
	slices.Sort(profileDirs)
	return files, moduleDirs, profileDirs, err
}

func skippedDir(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor"
}

// checkPackages makes sure every binary's package exists in the context
// and is a main package. It returns the symlinks the package directories
// go through: the scan does not follow them, go build does, so a package
// reached through one is looked for where the links lead, and one that
// leads out of the context is refused.
func (b *builder) checkPackages(ctx context.Context, files map[string][]gbllb.GoFile) ([]string, error) {
	s := b.spec
	var (
		errs  []error
		links []string
	)
	for i, bin := range s.Binaries {
		dir := path.Join(s.Module, bin.Package)
		if len(files[dir]) == 0 {
			resolved, through, err := resolvePath(ctx, b.contextStat(), dir)
			if err != nil {
				errs = append(errs, s.ErrorAt([]any{"binaries", i, "package"}, "binaries[%d].package %s: %v", i, bin.Package, err))
				continue
			}
			dir, links = resolved, append(links, through...)
		}
		if err := gbllb.CheckMainPackage(files[dir]); err != nil {
			errs = append(errs, s.ErrorAt([]any{"binaries", i, "package"}, "binaries[%d].package %s: %v", i, bin.Package, err))
		}
	}
	return links, errors.Join(errs...)
}
