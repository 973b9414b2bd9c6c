package spec

import (
	"errors"
	"fmt"
	"go/version"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"golang.org/x/mod/semver"
)

var binaryName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validate checks what the types alone cannot. It only checks: unset
// fields are read as their defaults, which FillDefaults fills later.
func (s *Spec) validate() error {
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }

	if s.Version != 1 {
		if s.Version == 0 {
			add(s.errorAt(s.Pos(), "version is missing; add \"version: 1\" as the first field"))
		} else {
			add(s.errorAt(s.Pos("version"), "version %d is not supported; this frontend reads version 1", s.Version))
		}
	}
	if s.Go != "" && !version.IsValid("go"+strings.TrimPrefix(s.Go, "go")) {
		add(s.errorAt(s.Pos("go"), "go %q is not a Go version; write it as in go.mod, such as \"1.26\" or \"1.26.8\"", s.Go))
	}
	if _, ok := s.moduleDir(); !ok {
		add(s.errorAt(s.Pos("module"), "module %q must be a directory inside the build context, such as \".\" or \"./service\"", s.Module))
	}
	if s.Builder != "" {
		if _, err := reference.ParseNormalizedNamed(s.Builder); err != nil {
			add(s.errorAt(s.Pos("builder"), "builder %q is not an image reference: %v", s.Builder, err))
		}
	}
	errs = append(errs, s.checkGoEnv([]any{"env"}, s.Env)...)
	if !strings.Contains(s.Goflags, "{{") { // a template is checked once rendered
		if err := checkGoflags(s.Goflags); err != nil {
			add(s.errorAt(s.Pos("goflags"), "goflags: %v", err))
		}
	}
	// A literal URL with credentials is refused here; a templated one once
	// rendered.
	_ = s.eachTemplate(nil, func(path []any, name, text string) (string, error) {
		if fetchesWith(path) && !strings.Contains(text, "{{") {
			if err := checkNoCredentials(text); err != nil {
				add(s.errorAt(s.Pos(path...), "%s: %v", name, err))
			}
		}
		return text, nil
	})
	errs = append(errs, s.checkTemplates()...)

	if len(s.Binaries) == 0 {
		add(s.errorAt(s.Pos("binaries"), "binaries is missing or empty; list at least one main package, such as \"binaries: [{package: ./cmd/server}]\""))
	}
	names := map[string]int{}
	for i := range s.Binaries {
		errs = append(errs, s.validateBinary(i, names)...)
	}

	for i, p := range s.Platforms {
		if err := checkPlatform(p); err != nil {
			add(s.errorAt(s.Pos("platforms", i), "platforms[%d]: %v", i, err))
		}
	}
	errs = append(errs, s.validateImage()...)
	errs = append(errs, s.validateDebug()...)
	errs = append(errs, s.validateTest()...)
	return errors.Join(errs...)
}

func (s *Spec) validateBinary(i int, names map[string]int) []error {
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }
	b := &s.Binaries[i]
	at := func(path ...any) Pos { return s.Pos(append([]any{"binaries", i}, path...)...) }
	field := fmt.Sprintf("binaries[%d]", i)

	name := b.nameOrDefault()
	switch {
	case b.Package == "":
		add(s.errorAt(at(), "%s.package is missing; name a main package such as \"./cmd/server\"", field))
	case !isRelativePackage(b.Package):
		add(s.errorAt(at("package"), "%s.package %q must be a path inside the module starting with \"./\", such as \"./cmd/server\"", field, b.Package))
		name = b.Name
	}
	if name != "" {
		if !binaryName.MatchString(name) {
			add(s.errorAt(at("name"), "%s.name %q is not a file name; use letters, digits, '.', '_' and '-'", field, name))
		}
		if first, dup := names[name]; dup {
			add(s.errorAt(at(), "binaries[%d] and %s are both named %q; set a distinct name", first, field, name))
		} else {
			names[name] = i
		}
	}
	for j, tag := range b.Tags {
		if !validTag(tag) {
			add(s.errorAt(at("tags", j), "%s.tags[%d] %q is not a build tag", field, j, tag))
		}
	}
	for j, flag := range b.Flags {
		if err := checkFlag(flag, buildFlags); err != nil {
			add(s.errorAt(at("flags", j), "%s.flags[%d]: %v", field, j, err))
		}
	}
	for j, p := range b.Platforms {
		if err := checkPlatform(p); err != nil {
			add(s.errorAt(at("platforms", j), "%s.platforms[%d]: %v", field, j, err))
		}
	}
	errs = append(errs, s.checkGoEnv([]any{"binaries", i, "env"}, b.Env)...)
	if base := s.Image.baseOrDefault(); b.Cgo && (base == BaseStatic || base == BaseScratch) && !linksStatically(b.Ldflags) {
		add(s.errorAt(at("cgo"), "%s.cgo needs a C library at run time, which base %q lacks; link statically (ldflags: [\"-linkmode=external\", \"-extldflags=-static\"]) or use a base with libc such as gcr.io/distroless/base-debian12", field, base))
	}
	return errs
}

// checkEnv checks variable names; checkTemplates their values.
func (s *Spec) checkEnv(at []any, env map[string]string) []error {
	var errs []error
	name := describeAt(at)
	for _, k := range sortedKeys(env) {
		if !validEnvName(k) {
			errs = append(errs, s.errorAt(s.KeyPos(append(at, k)...), "%s %q is not a valid variable name", name, k))
		}
	}
	return errs
}

// checkGoEnv checks the names of a go command's env, which must leave
// alone the variables gobuild sets.
func (s *Spec) checkGoEnv(at []any, env map[string]string) []error {
	errs := s.checkEnv(at, env)
	for _, k := range sortedKeys(env) {
		if fix := ownedEnvFix(at, k, env[k]); fix != "" {
			errs = append(errs, s.errorAt(s.KeyPos(append(at, k)...), "%s: %s %s", describeAt(at), k, fix))
		}
	}
	return errs
}

// validateDebug checks the debug target's settings: delve's version is a
// module version the proxy can serve, and the address one it can listen on.
func (s *Spec) validateDebug() []error {
	var errs []error
	d := s.Debug
	if d.Delve != "" && (!semver.IsValid(d.Delve) || semver.Canonical(d.Delve) != d.Delve) {
		errs = append(errs, s.errorAt(s.Pos("debug", "delve"), "debug.delve %q is not a version of github.com/go-delve/delve; write one such as %q", d.Delve, DefaultDelve))
	}
	if d.Listen != "" {
		if _, err := debugPort(d.Listen); err != nil {
			errs = append(errs, s.errorAt(s.Pos("debug", "listen"), "debug.listen %q: %v; write host:port or :port, such as %q", d.Listen, err, DefaultDebugListen))
		}
	}
	return errs
}

// debugPort is the port of delve's listen address.
func debugPort(listen string) (int, error) {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return n, nil
}

// DebugPort is the port delve listens on in the debug image.
func (s *Spec) DebugPort() int {
	n, _ := debugPort(s.Debug.Listen)
	return n
}
