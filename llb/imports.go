package llb

import (
	"bytes"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Imports is what the .go files of the context import, read once by the
// frontend and asked per target platform: which packages from outside the
// main module a binary's packages reach. The answer names the dependency
// layer's packages (llb/deps.go); a package it misses is compiled by go
// build instead, so it may err towards more, never decide a build.
type Imports struct {
	dirs map[string][]importingFile // by directory in the context
}

type importingFile struct {
	GoFile
	imports []string
}

// ReadImports parses the import blocks of the non-test files.
func ReadImports(files map[string][]GoFile) *Imports {
	im := &Imports{dirs: map[string][]importingFile{}}
	for dir, fs := range files {
		for _, f := range fs {
			if strings.HasSuffix(f.Name, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Data, parser.ImportsOnly)
			if err != nil {
				continue // go build reports it
			}
			file := importingFile{GoFile: f}
			for _, spec := range parsed.Imports {
				if p, err := strconv.Unquote(spec.Path.Value); err == nil {
					file.imports = append(file.imports, p)
				}
			}
			im.dirs[dir] = append(im.dirs[dir], file)
		}
	}
	return im
}

// outside returns, sorted, the packages outside the module (its import
// path and directory in the context) that the packages of patterns (as
// go build is given them, relative to the module) import directly or
// through the module's own packages, for the files goos, goarch and tags
// select.
func (im *Imports) outside(modulePath, moduleDir string, patterns []string, goos, goarch string, tags []string) []string {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = goos, goarch, false
	ctx.BuildTags, ctx.ToolTags = tags, nil
	visited, found := map[string]bool{}, map[string]bool{}
	var visit func(dir string)
	visit = func(dir string) {
		if visited[dir] {
			return
		}
		visited[dir] = true
		for _, f := range im.dirs[dir] {
			if !matches(ctx, dir, f) {
				continue
			}
			for _, p := range f.imports {
				switch {
				case p == "C":
				case p == modulePath:
					visit(moduleDir)
				case strings.HasPrefix(p, modulePath+"/"):
					visit(path.Join(moduleDir, strings.TrimPrefix(p, modulePath+"/")))
				default:
					found[p] = true
				}
			}
		}
	}
	for _, pattern := range patterns {
		stem, wildcard := strings.CutSuffix(pattern, "...")
		if !wildcard {
			visit(path.Join(moduleDir, pattern))
			continue
		}
		// More directories than go's pattern matching may be visited:
		// a superset only makes the layer larger.
		prefix := path.Join(moduleDir, stem)
		for d := range im.dirs {
			if prefix == "." || strings.HasPrefix(d, prefix) {
				visit(d)
			}
		}
	}
	return slices.Sorted(maps.Keys(found))
}

// matches reports whether go builds f for ctx's target: its name's
// _GOOS_GOARCH suffix and its build constraints.
func matches(ctx build.Context, dir string, f importingFile) bool {
	ctx.OpenFile = func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(f.Data)), nil
	}
	ok, err := ctx.MatchFile(dir, f.Name)
	return ok || err != nil // a file go cannot read: keep its imports
}
