package spec

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
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
	// Given says which stamps the client's options give; the frontend
	// reads the others from the context's .git.
	Given VCSGiven
}

// VCSGiven says which of a build's stamps the client gives, so that the
// context's .git is not read for them.
type VCSGiven struct {
	// Version is whether the VERSION build-arg is given (even empty).
	Version bool
	// Commit is whether the client sent vcs:revision.
	Commit bool
	// Date is whether SOURCE_DATE_EPOCH is given.
	Date bool
}

// ReadsGit reports whether the frontend reads the context's .git: for
// the version, the commit or the date the client did not give.
func (g VCSGiven) ReadsGit() bool { return !g.Version || !g.Commit || !g.Date }

// LintRules names every rule with what it guards against.
var LintRules = map[string]string{
	"FloatingImage":       "an image the spec names by a tag that moves: builds are not repeatable",
	"LatestTag":           "an image the spec names by :latest (or no tag at all)",
	"RunsAsRoot":          "the container runs as root",
	"CgoDynamicLink":      "a cgo binary linked dynamically: it needs the base's C library to match the builder's",
	"GitDirIgnored":       ".dockerignore excludes .git, which the build reads for the version, commit or date: they come out dev, unknown or the Unix epoch",
	"BuildvcsWithoutGit":  "buildvcs is on but .dockerignore drops .git, so go build fails",
	"EntrypointNotBinary": "the entrypoint is not one of the spec's binaries",
	"PrivilegedPort":      "a port below 1024 with a nonroot user: it cannot bind it where the runtime keeps the default ip_unprivileged_port_start (Kubernetes)",
	"ZoneinfoTree":        "a path under /usr/share/zoneinfo with the static base, which has only Go's /usr/share/zoneinfo.zip",
	ruleUnwritableDir:     unwritableDirDescribe,
}

// linter collects the findings of one Lint.
type linter struct {
	s   *Spec
	out []Finding
}

func (l *linter) add(rule string, pos Pos, format string, args ...any) {
	l.out = append(l.out, Finding{Rule: rule, Description: LintRules[rule], Detail: fmt.Sprintf(format, args...), Pos: pos})
}

// Lint applies every rule to a parsed spec.
func Lint(s *Spec, in LintInput) []Finding {
	l := &linter{s: s}
	l.images()
	l.user()
	l.cgo()
	l.git(in)
	l.entrypoint()
	l.ports()
	l.zoneinfo()
	l.out = append(l.out, lintUnwritableDirs(s)...)
	return l.out
}

// images checks the tags of the images the spec file names. A default
// (the builder golang:<minor>, which floats on purpose to get each patch
// release) is the frontend's choice, not the user's mistake.
func (l *linter) images() {
	s := l.s
	type image struct {
		ref string
		pos Pos
	}
	var images []image
	if s.Has("builder") {
		images = append(images, image{s.Builder, s.Pos("builder")})
	}
	if s.Has("image", "base") {
		images = append(images, image{s.Image.Base, s.Pos("image", "base")})
	}
	for _, p := range sortedKeys(s.Image.Bases) {
		images = append(images, image{s.Image.Bases[p], s.Pos("image", "bases", p)})
	}
	for _, img := range images {
		if img.ref == BaseStatic || img.ref == BaseScratch {
			continue
		}
		named, err := reference.ParseNormalizedNamed(img.ref)
		if err != nil {
			continue
		}
		if _, digested := named.(reference.Digested); digested {
			continue
		}
		tagged, ok := named.(reference.Tagged)
		if !ok || tagged.Tag() == "latest" {
			l.add("LatestTag", img.pos, "%s uses the latest tag; name a version, and pin it with @sha256:…", img.ref)
			continue
		}
		l.add("FloatingImage", img.pos, "%s is a tag that can move; pin it as %s@sha256:… for repeatable builds", img.ref, img.ref)
	}
}

// runsAsRoot reports whether the image's user is root; an unset user is
// the nonroot default.
func (s *Spec) runsAsRoot() bool {
	u, _, _ := strings.Cut(s.Image.User, ":")
	return u == "0" || u == "root"
}

func (l *linter) user() {
	if l.s.runsAsRoot() {
		l.add("RunsAsRoot", l.s.Pos("image", "user"), "image.user is %q; the static base has nonroot (65532)", l.s.Image.User)
	}
}

func (l *linter) cgo() {
	for i, b := range l.s.Binaries {
		if b.Cgo && !linksStatically(b.Ldflags) {
			l.add("CgoDynamicLink", l.s.Pos("binaries", i, "cgo"), "binaries[%d] uses cgo and links dynamically; add ldflags [\"-linkmode=external\", \"-extldflags=-static\"] unless the base's libc matches the builder's", i)
		}
	}
}

// git checks that .dockerignore keeps .git when the build reads it: go
// build for buildvcs, the frontend for the stamps the client did not give.
// Nothing else is needed when it does not: the frontend keeps .git out of
// every other view of the context itself.
func (l *linter) git(in LintInput) {
	ignoresGit := slices.ContainsFunc(in.Dockerignore, func(p string) bool {
		p = strings.TrimPrefix(strings.TrimSuffix(p, "/"), "/")
		return p == ".git" || p == "**/.git"
	})
	switch {
	case !ignoresGit:
	case l.s.UsesBuildvcs():
		l.add("BuildvcsWithoutGit", l.s.Pos("binaries"), "a binary sets buildvcs but .dockerignore excludes .git; remove .git from .dockerignore")
	case in.Given.ReadsGit():
		l.gitIgnored(in.Given)
	}
}

// gitIgnored says what comes out unknown, at the first template that
// reads it (else the first line), and how to give it instead.
func (l *linter) gitIgnored(given VCSGiven) {
	var lost, pass []string
	var uses []Pos
	if !given.Version {
		lost = append(lost, `the version is "dev"`)
		pass = append(pass, "--build-arg VERSION=...")
		uses = append(uses, l.s.TemplateFieldUses("Version")...)
	}
	if !given.Commit {
		lost = append(lost, "the commit is unknown")
		pass = append(pass, "--opt vcs:revision=...")
		uses = append(uses, l.s.TemplateFieldUses("Commit")...)
		uses = append(uses, l.s.TemplateFieldUses("ShortCommit")...)
	}
	if !given.Date {
		lost = append(lost, "the date is the Unix epoch")
		pass = append(pass, "--build-arg SOURCE_DATE_EPOCH=...")
		uses = append(uses, l.s.TemplateFieldUses("Date")...)
	}
	pos := Pos{Line: 1}
	if len(uses) > 0 {
		sort.SliceStable(uses, func(i, j int) bool { return uses[i].Line < uses[j].Line })
		pos = uses[0]
	}
	l.add("GitDirIgnored", pos, ".dockerignore excludes .git, which the build reads for what the client does not give: %s; remove .git from .dockerignore, or pass %s",
		strings.Join(lost, ", "), strings.Join(pass, " "))
}

func (l *linter) entrypoint() {
	s := l.s
	if len(s.Image.Entrypoint) == 0 || !strings.HasPrefix(s.Image.Entrypoint[0], BinDir+"/") {
		return
	}
	name := strings.TrimPrefix(s.Image.Entrypoint[0], BinDir+"/")
	if !slices.ContainsFunc(s.Binaries, func(b Binary) bool { return b.Name == name }) {
		l.add("EntrypointNotBinary", s.Pos("image", "entrypoint"), "image.entrypoint runs %s, which no binary builds", s.Image.Entrypoint[0])
	}
}

// ports warns about ports a nonroot user may not bind: Docker lets a
// container bind any port, but Kubernetes does not set
// net.ipv4.ip_unprivileged_port_start, so there the bind fails.
func (l *linter) ports() {
	if l.s.runsAsRoot() {
		return
	}
	user := l.s.Image.User
	if user == "" {
		user = DefaultUser
	}
	for i, p := range l.s.Image.Ports {
		num, _, _ := strings.Cut(string(p), "/")
		if n, err := strconv.Atoi(num); err == nil && n > 0 && n < 1024 {
			l.add("PrivilegedPort", l.s.Pos("image", "ports", i), "image.ports has %s and the container runs as %s, which cannot bind a port below 1024 unless the runtime lowers net.ipv4.ip_unprivileged_port_start (Docker does, Kubernetes does not); listen on a port >= 1024 (a Service maps %d to it) or grant the NET_BIND_SERVICE capability", p, user, n)
		}
	}
}

// zoneinfoDir is the time zone tree of most Linux images; the static base
// has Go's zoneinfo.zip instead (llb.ZoneinfoPath).
const zoneinfoDir = "/usr/share/zoneinfo"

// readsZoneinfoTree reports whether v names zoneinfoDir or a path under
// it (not zoneinfo.zip next to it).
func readsZoneinfoTree(v string) bool {
	for rest := v; ; {
		i := strings.Index(rest, zoneinfoDir)
		if i < 0 {
			return false
		}
		rest = rest[i+len(zoneinfoDir):]
		if rest == "" || rest[0] == '/' {
			return true
		}
	}
}

// zoneinfo warns about paths under zoneinfoDir in an image whose static
// base has no such tree.
func (l *linter) zoneinfo() {
	s := l.s
	img := &s.Image
	static := img.baseOrDefault() == BaseStatic
	for _, b := range img.Bases {
		static = static || b == BaseStatic
	}
	if !static || img.ZoneinfoTree {
		return
	}
	const fix = "the static base has no %s tree: it ships Go's time zone database as /usr/share/zoneinfo.zip, with ZONEINFO set, which Go's time package reads; drop the path for a Go program, or set image.zoneinfotree: true for other tools"
	for _, name := range sortedKeys(img.Env) {
		if readsZoneinfoTree(img.Env[name]) {
			l.add("ZoneinfoTree", s.Pos("image", "env", name), "image.env %s is %s; "+fix, name, img.Env[name], zoneinfoDir)
		}
	}
	type argList struct {
		field string
		path  []any
		list  []string
	}
	args := []argList{
		{"image.entrypoint", []any{"image", "entrypoint"}, img.Entrypoint},
		{"image.cmd", []any{"image", "cmd"}, img.Cmd},
	}
	if img.Healthcheck != nil {
		args = append(args, argList{"image.healthcheck.command", []any{"image", "healthcheck", "command"}, img.Healthcheck.Command})
	}
	for _, a := range args {
		for i, arg := range a.list {
			if readsZoneinfoTree(arg) {
				l.add("ZoneinfoTree", s.Pos(append(slices.Clone(a.path), i)...), "%s[%d] is %q; "+fix, a.field, i, arg, zoneinfoDir)
			}
		}
	}
}
