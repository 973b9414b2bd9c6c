package llb

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// SourceSet describes the files of the context a go build reads beyond
// Go's own source file types.
type SourceSet struct {
	// Embeds are the //go:embed patterns, relative to the context root.
	Embeds []string
	// Links are the symlinks the binaries' package directories go
	// through, relative to the context root: go build follows them.
	Links []string
}

// goSourcePatterns are the files the go command may read when building
// a package: Go's source file types (go help filetype), module and
// workspace files, vendored code and profile-guided optimization profiles.
var goSourcePatterns = []string{
	"**/*.go", "**/*.s", "**/*.S", "**/*.sx", "**/*.syso",
	"**/*.c", "**/*.h", "**/*.cc", "**/*.cpp", "**/*.cxx", "**/*.hh", "**/*.hpp", "**/*.hxx",
	"**/*.m", "**/*.f", "**/*.F", "**/*.for", "**/*.f90", "**/*.swig", "**/*.swigcxx",
	"**/go.mod", "**/go.sum", "**/go.work", "**/go.work.sum", "**/vendor/**", "**/*.pgo",
}

// goSources is the context as go build sees it: with opt.Sources set,
// only the files it reads, copied into a tree of their own. BuildKit keys
// the build on that tree's content, so editing a README or any other file
// the build never reads leaves the build cached.
//
// A binary that stamps VCS data (buildvcs) sees the whole context, .git
// included: go build asks git whether the checkout is modified, and git
// would take every file left out for a deleted one.
func goSources(s *spec.Spec, opt Options) bkllb.State {
	if opt.Sources == nil || s.UsesBuildvcs() {
		return opt.Context
	}
	include := slices.Clone(goSourcePatterns)
	for _, e := range opt.Sources.Embeds {
		// A pattern naming a directory embeds the tree below it.
		include = append(include, e, e+"/**")
	}
	// A symlink is copied as a link; what it leads to is in the view
	// already, or in Links.
	include = append(include, opt.Sources.Links...)
	include = append(include, opt.Modules.Links...)
	for _, b := range s.Binaries {
		if profile := pgoProfile(b.Flags); profile != "" {
			include = append(include, path.Join(s.Module, profile)) // relative to where go runs
		}
	}
	return bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     include,
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName(StepSelectSources),
	)
}

// pgoProfile is the file a -pgo flag names, if it names one.
func pgoProfile(flags []string) string {
	for i, f := range flags {
		v, ok := strings.CutPrefix(f, "-pgo=")
		if !ok && f == "-pgo" && i+1 < len(flags) {
			v, ok = flags[i+1], true
		}
		if ok && v != "auto" && v != "off" {
			return v
		}
	}
	return ""
}

// GoFile is one .go file of the context, as the frontend read it.
type GoFile struct {
	Name string
	Data []byte
}

// CheckMainPackage reports why the Go files of a binary's package
// directory are not a main package, if they are not. Build constraints
// are not evaluated: a directory whose Go files all say "package main" is
// taken for a main package.
func CheckMainPackage(files []GoFile) error {
	seen := false
	for _, f := range files {
		if strings.HasSuffix(f.Name, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Data, parser.PackageClauseOnly)
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

// EmbedPatterns returns the patterns of every //go:embed directive in the
// non-test files (keyed by their directory in the context), relative to the
// context root and sorted, as SourceSet.Embeds wants them. It returns false
// when a directive cannot be read: the build then sees the whole context
// rather than miss a file.
func EmbedPatterns(files map[string][]GoFile) ([]string, bool) {
	var out []string
	for dir, fs := range files {
		for _, f := range fs {
			if strings.HasSuffix(f.Name, "_test.go") || !bytes.Contains(f.Data, []byte("//go:embed")) {
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(f.Data))
			sc.Buffer(nil, len(f.Data)+1)
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
