package llb

import (
	"bytes"
	"go/build"
	"go/build/constraint"
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
	// modules are the directories in the context that hold a go.mod: a
	// package below one is another module's, which go build takes from
	// wherever the build list says, not necessarily from here.
	modules map[string]bool
}

type importingFile struct {
	GoFile
	imports []string
}

// ReadImports parses the import blocks of the non-test files; moduleDirs
// are the directories of the context that hold a go.mod.
func ReadImports(files map[string][]GoFile, moduleDirs ...string) *Imports {
	im := &Imports{dirs: map[string][]importingFile{}, modules: map[string]bool{}}
	for _, dir := range moduleDirs {
		im.modules[dir] = true
	}
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
// select, as match decides them. A package of a module nested in the
// module's directory is outside it. complete is false when a package of
// the module had no files read (the scan does not follow a symlinked
// directory): its imports are then unknown.
func (im *Imports) outside(modulePath, moduleDir string, patterns []string, goos, goarch string, tags []string, match func(build.Context, string, importingFile) bool) (packages []string, complete bool) {
	ctx := buildContext(goos, goarch, tags)
	visited, found := map[string]bool{}, map[string]bool{}
	complete = true
	var visit func(dir string)
	visit = func(dir string) {
		if visited[dir] {
			return
		}
		visited[dir] = true
		if len(im.dirs[dir]) == 0 {
			complete = false
		}
		for _, f := range im.dirs[dir] {
			if !match(ctx, dir, f) {
				continue
			}
			for _, p := range f.imports {
				switch {
				case p == "C":
				case p == modulePath:
					visit(moduleDir)
				case strings.HasPrefix(p, modulePath+"/"):
					if dir := path.Join(moduleDir, strings.TrimPrefix(p, modulePath+"/")); !im.nested(dir, moduleDir) {
						visit(dir)
					} else {
						found[p] = true
					}
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
	return slices.Sorted(maps.Keys(found)), complete
}

// nested reports whether dir is in a module nested in moduleDir.
func (im *Imports) nested(dir, moduleDir string) bool {
	for ; dir != moduleDir && dir != "." && dir != "/"; dir = path.Dir(dir) {
		if im.modules[dir] {
			return true
		}
	}
	return false
}

// buildContext is go/build's view of a go build without cgo for goos and
// goarch with tags: the frontend's release tags, and none of the tags the
// builder's toolchain sets (ToolTags), which it cannot know.
func buildContext(goos, goarch string, tags []string) build.Context {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = goos, goarch, false
	ctx.BuildTags, ctx.ToolTags = tags, nil
	return ctx
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

// mayMatch reports whether some toolchain's go builds f for ctx's target:
// as matches, with each tag of f's constraints that the toolchain sets
// and the frontend cannot know taken as true or as false, whichever
// includes f. Those are the release tags (go1.N) and the tags with a dot
// in them: GOEXPERIMENT's (goexperiment.X) and the architecture levels
// (amd64.v2, arm.7). A user's tag with a dot is taken both ways too:
// that only lets in more files.
func mayMatch(ctx build.Context, dir string, f importingFile) bool {
	unknown := toolchainTags(f.Data)
	if len(unknown) > 8 {
		return true
	}
	ctx.ReleaseTags = nil
	given := ctx.BuildTags
	for set := range 1 << len(unknown) {
		ctx.BuildTags = slices.Clone(given)
		for i, tag := range unknown {
			if set&(1<<i) != 0 {
				ctx.BuildTags = append(ctx.BuildTags, tag)
			}
		}
		if matches(ctx, dir, f) {
			return true
		}
	}
	return false
}

// toolchainTags are the tags with a dot in them that the build
// constraints of a Go file's header name, sorted.
func toolchainTags(data []byte) []string {
	var tags []string
	var collect func(constraint.Expr)
	collect = func(x constraint.Expr) {
		switch x := x.(type) {
		case *constraint.TagExpr:
			if strings.Contains(x.Tag, ".") {
				tags = append(tags, x.Tag)
			}
		case *constraint.NotExpr:
			collect(x.X)
		case *constraint.AndExpr:
			collect(x.X)
			collect(x.Y)
		case *constraint.OrExpr:
			collect(x.X)
			collect(x.Y)
		}
	}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "package ") {
			break
		}
		if constraint.IsGoBuild(line) || constraint.IsPlusBuild(line) {
			if x, err := constraint.Parse(line); err == nil {
				collect(x)
			}
		}
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}
