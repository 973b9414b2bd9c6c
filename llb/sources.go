package llb

import (
	"path"
	"slices"
	"strings"

	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// SourceSet describes the files of the context a go build reads beyond
// Go's own source file types.
type SourceSet struct {
	// Embeds are the //go:embed patterns, relative to the context root.
	Embeds []string
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
func goSources(s *spec.Spec, opt Options) bkllb.State {
	if opt.Sources == nil {
		return opt.Context
	}
	include := slices.Clone(goSourcePatterns)
	for _, e := range opt.Sources.Embeds {
		// A pattern naming a directory embeds the tree below it.
		include = append(include, e, e+"/**")
	}
	for _, b := range s.Binaries {
		if profile := pgoProfile(b.Flags); profile != "" {
			include = append(include, path.Join(s.Module, profile)) // relative to where go runs
		}
	}
	if s.UsesBuildvcs() {
		include = append(include, ".git/**")
	}
	return bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     include,
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName("[internal] select the files go build reads"),
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
