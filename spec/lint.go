package spec

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

// Finding is one lint warning: legal, but probably not what the user
// wants.
type Finding struct {
	Rule        string
	Description string
	Detail      string
	Pos         Pos
}

// LintInput is what the rules need from outside the spec.
type LintInput struct {
	// Dockerignore holds the build context's .dockerignore patterns, nil
	// when it has none.
	Dockerignore []string
}

// LintRules names every rule with what it guards against.
var LintRules = map[string]string{
	"FloatingImage":       "an image referenced by a tag that moves: builds are not repeatable",
	"LatestTag":           "an image referenced by :latest (or no tag at all)",
	"RunsAsRoot":          "the container runs as root",
	"CgoDynamicLink":      "a cgo binary linked dynamically: it needs the base's C library to match the builder's",
	"GitDirInContext":     "the .git directory is sent to the builder: slower transfers and needless cache misses",
	"BuildvcsWithoutGit":  "buildvcs is on but .dockerignore drops .git, so go build fails",
	"EntrypointNotBinary": "the entrypoint is not one of the spec's binaries",
}

// Lint applies every rule to a parsed spec.
func Lint(s *Spec, in LintInput) []Finding {
	var out []Finding
	add := func(rule string, pos Pos, format string, args ...any) {
		out = append(out, Finding{Rule: rule, Description: LintRules[rule], Detail: fmt.Sprintf(format, args...), Pos: pos})
	}
	images := []struct {
		ref string
		pos Pos
	}{{s.Builder, s.Pos("builder")}}
	if s.Image.Base != BaseStatic && s.Image.Base != BaseScratch {
		images = append(images, struct {
			ref string
			pos Pos
		}{s.Image.Base, s.Pos("image", "base")})
	}
	for _, img := range images {
		named, err := reference.ParseNormalizedNamed(img.ref)
		if err != nil {
			continue
		}
		if _, digested := named.(reference.Digested); digested {
			continue
		}
		tagged, ok := named.(reference.Tagged)
		if !ok || tagged.Tag() == "latest" {
			add("LatestTag", img.pos, "%s uses the latest tag; name a version, and pin it with @sha256:…", img.ref)
			continue
		}
		add("FloatingImage", img.pos, "%s is a tag that can move; pin it as %s@sha256:… for repeatable builds", img.ref, img.ref)
	}
	if u := strings.SplitN(s.Image.User, ":", 2)[0]; u == "0" || u == "root" {
		add("RunsAsRoot", s.Pos("image", "user"), "image.user is %q; the static base has nonroot (65532)", s.Image.User)
	}
	for i, b := range s.Binaries {
		if b.Cgo && !linksStatically(b.Ldflags) {
			add("CgoDynamicLink", s.Pos("binaries", i, "cgo"), "binaries[%d] uses cgo and links dynamically; add ldflags [\"-linkmode=external\", \"-extldflags=-static\"] unless the base's libc matches the builder's", i)
		}
	}
	ignoresGit := false
	for _, p := range in.Dockerignore {
		p = strings.TrimPrefix(strings.TrimSuffix(p, "/"), "/")
		if p == ".git" || p == "**/.git" {
			ignoresGit = true
		}
	}
	buildvcs := false
	for _, b := range s.Binaries {
		buildvcs = buildvcs || b.Buildvcs
	}
	switch {
	case buildvcs && ignoresGit:
		add("BuildvcsWithoutGit", s.Pos("binaries"), "a binary sets buildvcs but .dockerignore excludes .git")
	case !buildvcs && !ignoresGit:
		add("GitDirInContext", Pos{Line: 1}, "add .git to .dockerignore: nothing in the build reads it")
	}
	if len(s.Image.Entrypoint) > 0 && strings.HasPrefix(s.Image.Entrypoint[0], BinDir+"/") {
		name := strings.TrimPrefix(s.Image.Entrypoint[0], BinDir+"/")
		found := false
		for _, b := range s.Binaries {
			found = found || b.Name == name
		}
		if !found {
			add("EntrypointNotBinary", s.Pos("image", "entrypoint"), "image.entrypoint runs %s, which no binary builds", s.Image.Entrypoint[0])
		}
	}
	out = append(out, lintUnwritableDirs(s)...)
	return out
}
