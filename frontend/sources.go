package frontend

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"golang.org/x/sync/errgroup"
)

// goFile is one .go file of the context, as the scan read it.
type goFile struct {
	name string
	data []byte
}

// scanSources reads every .go file of the context (nothing else is
// transferred for it); checkSources then learns two things before anything
// is compiled:
// whether each binary's package is a main package, and which files the
// //go:embed directives name. The second lets go build see only what the
// go command reads, so an edit to docs or other unrelated files leaves
// the build cached.
func (b *builder) scanSources(ctx context.Context, excludes []string) error {
	st, err := b.bc.MainContext(ctx,
		llb.IncludePatterns([]string{"**/*.go"}),
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
	b.goFiles, err = readGoFiles(ctx, ref)
	return err
}

// checkSources checks the scanned packages against the spec and narrows
// what go build sees; it runs once the spec's defaults are filled.
func (b *builder) checkSources() error {
	if err := b.checkPackages(b.goFiles); err != nil {
		return err
	}
	embeds, ok := embedPatterns(b.goFiles)
	if ok && !b.spec.UsesCgo() {
		// cgo directives may name any file (-I${SRCDIR}/include), so only
		// pure Go builds are narrowed.
		b.sources = &gbllb.SourceSet{Embeds: embeds}
	}
	return nil
}

// readGoFiles walks the scanned context and reads its .go files in
// parallel, by directory. Directories the go command never looks into
// (hidden, _-prefixed, testdata, vendor) are skipped; vendor is handed to
// the build whole.
func readGoFiles(ctx context.Context, ref client.Reference) (map[string][]goFile, error) {
	var (
		mu      sync.Mutex
		files   = map[string][]goFile{}
		g, gctx = errgroup.WithContext(ctx)
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
		var read []goFile
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
			if !strings.HasSuffix(name, ".go") {
				continue
			}
			data, err := ref.ReadFile(gctx, client.ReadRequest{Filename: path.Join(dir, name)})
			if err != nil {
				return fmt.Errorf("reading %s of the build context: %w", path.Join(dir, name), err)
			}
			read = append(read, goFile{name: name, data: data})
		}
		if len(read) > 0 {
			mu.Lock()
			files[dir] = read
			mu.Unlock()
		}
		return nil
	}
	g.Go(func() error { return walk(".") })
	return files, g.Wait()
}

func skippedDir(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor"
}

// checkPackages makes sure every binary's package exists in the context
// and is a main package. Build constraints are not evaluated: a directory
// whose Go files all say "package main" is taken for a main package.
func (b *builder) checkPackages(files map[string][]goFile) error {
	s := b.spec
	var errs []error
	for i, bin := range s.Binaries {
		dir := path.Join(s.Module, bin.Package)
		if err := checkMainPackage(files[dir]); err != nil {
			errs = append(errs, s.ErrorAt([]any{"binaries", i, "package"}, "binaries[%d].package %s: %v", i, bin.Package, err))
		}
	}
	return joinErrors(errs)
}

func checkMainPackage(files []goFile) error {
	seen := false
	for _, f := range files {
		if strings.HasSuffix(f.name, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f.name, f.data, parser.PackageClauseOnly)
		if err != nil {
			continue // go build will report it, with the compiler's words
		}
		if parsed.Name.Name != "main" {
			return fmt.Errorf("is package %s, not a main package", parsed.Name.Name)
		}
		seen = true
	}
	if !seen {
		return fmt.Errorf("has no Go files here (is the directory missing, or excluded by .dockerignore?)")
	}
	return nil
}

// embedPatterns returns the context-relative patterns of every //go:embed
// directive in non-test files, sorted, and false when a directive cannot
// be read (the build then sees the whole context rather than miss a file).
func embedPatterns(files map[string][]goFile) ([]string, bool) {
	var out []string
	for dir, fs := range files {
		for _, f := range fs {
			if strings.HasSuffix(f.name, "_test.go") || !bytes.Contains(f.data, []byte("//go:embed")) {
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(f.data))
			sc.Buffer(nil, len(f.data)+1)
			for sc.Scan() {
				args, found := strings.CutPrefix(strings.TrimSpace(sc.Text()), "//go:embed")
				if !found || (args != "" && args[0] != ' ' && args[0] != '\t') {
					continue
				}
				patterns, err := splitEmbedArgs(args)
				if err != nil {
					return nil, false
				}
				for _, p := range patterns {
					p = strings.TrimPrefix(p, "all:")
					out = append(out, path.Join(dir, p))
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

// splitEmbedArgs splits a //go:embed argument list the way the go command
// does: space-separated, each either bare or a Go string literal.
func splitEmbedArgs(args string) ([]string, error) {
	var out []string
	for {
		args = strings.TrimLeft(args, " \t")
		if args == "" {
			return out, nil
		}
		var arg string
		switch args[0] {
		case '"', '`':
			quoted, err := strconv.QuotedPrefix(args)
			if err != nil {
				return nil, err
			}
			if arg, err = strconv.Unquote(quoted); err != nil {
				return nil, err
			}
			args = args[len(quoted):]
		default:
			end := strings.IndexAny(args, " \t")
			if end < 0 {
				end = len(args)
			}
			arg, args = args[:end], args[end:]
		}
		out = append(out, arg)
	}
}
