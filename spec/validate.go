package spec

import (
	"cmp"
	"errors"
	"fmt"
	"go/version"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
)

var binaryName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validate checks what the types alone cannot and fills the defaults that
// need nothing but the spec itself.
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
	if s.Module == "" {
		s.Module = "."
	}
	if clean, ok := contextPath(s.Module); !ok {
		add(s.errorAt(s.Pos("module"), "module %q must be a directory inside the build context, such as \".\" or \"./service\"", s.Module))
	} else {
		s.Module = clean
	}
	if s.Builder != "" {
		if _, err := reference.ParseNormalizedNamed(s.Builder); err != nil {
			add(s.errorAt(s.Pos("builder"), "builder %q is not an image reference: %v", s.Builder, err))
		}
	}
	errs = append(errs, s.checkEnv([]any{"env"}, s.Env)...)
	settings := s.ModuleSettings()
	for _, k := range sortedKeys(settings) {
		if err := checkTemplate(settings[k]); err != nil {
			field := strings.ToLower(k)
			add(s.errorAt(s.Pos(field), "%s: %v", field, err))
		}
	}

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
	errs = append(errs, s.validateTest()...)
	return errors.Join(errs...)
}

func (s *Spec) validateBinary(i int, names map[string]int) []error {
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }
	b := &s.Binaries[i]
	at := func(path ...any) Pos { return s.Pos(append([]any{"binaries", i}, path...)...) }
	field := fmt.Sprintf("binaries[%d]", i)

	switch {
	case b.Package == "":
		add(s.errorAt(at(), "%s.package is missing; name a main package such as \"./cmd/server\"", field))
	case !isRelativePackage(b.Package):
		add(s.errorAt(at("package"), "%s.package %q must be a path inside the module starting with \"./\", such as \"./cmd/server\"", field, b.Package))
	case b.Name == "":
		b.Name = path.Base(path.Clean(b.Package))
		if b.Name == "." {
			b.Name = ""
			add(s.errorAt(at(), "%s.name is missing; a package at the module root needs a name", field))
		}
	}
	if b.Name != "" {
		if !binaryName.MatchString(b.Name) {
			add(s.errorAt(at("name"), "%s.name %q is not a file name; use letters, digits, '.', '_' and '-'", field, b.Name))
		}
		if first, dup := names[b.Name]; dup {
			add(s.errorAt(at(), "binaries[%d] and %s are both named %q; set a distinct name", first, field, b.Name))
		} else {
			names[b.Name] = i
		}
	}
	for j, tag := range b.Tags {
		if !validTag(tag) {
			add(s.errorAt(at("tags", j), "%s.tags[%d] %q is not a build tag", field, j, tag))
		}
	}
	for j, flag := range b.Ldflags {
		if err := checkTemplate(flag); err != nil {
			add(s.errorAt(at("ldflags", j), "%s.ldflags[%d]: %v", field, j, err))
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
	errs = append(errs, s.checkEnv([]any{"binaries", i, "env"}, b.Env)...)
	if b.Cgo && (s.Image.Base == "" || s.Image.Base == BaseStatic || s.Image.Base == BaseScratch) && !linksStatically(b.Ldflags) {
		add(s.errorAt(at("cgo"), "%s.cgo needs a C library at run time, which base %q lacks; link statically (ldflags: [\"-linkmode=external\", \"-extldflags=-static\"]) or use a base with libc such as gcr.io/distroless/base-debian12", field, cmp.Or(s.Image.Base, BaseStatic)))
	}
	return errs
}

func (s *Spec) validateImage() []error {
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }
	img := &s.Image
	if img.Base == "" {
		img.Base = BaseStatic
	}
	if err := checkBase(img.Base); err != nil {
		add(s.errorAt(s.Pos("image", "base"), "image.base: %v", err))
	}
	for _, p := range sortedKeys(img.Bases) {
		if err := checkPlatform(p); err != nil {
			add(s.errorAt(s.KeyPos("image", "bases", p), "image.bases: %v", err))
		}
		if err := checkBase(img.Bases[p]); err != nil {
			add(s.errorAt(s.Pos("image", "bases", p), "image.bases[%s]: %v", p, err))
		}
	}
	if img.User == "" {
		img.User = DefaultUser
	}
	if len(img.Entrypoint) == 0 && len(s.Binaries) > 0 && s.Binaries[0].Name != "" {
		img.Entrypoint = []string{path.Join(BinDir, s.Binaries[0].Name)}
	}
	errs = append(errs, s.checkEnv([]any{"image", "env"}, img.Env)...)
	errs = append(errs, s.checkTemplates([]any{"image", "labels"}, img.Labels)...)
	errs = append(errs, s.checkTemplates([]any{"image", "annotations"}, img.Annotations)...)
	if img.Workdir != "" && !path.IsAbs(img.Workdir) {
		add(s.errorAt(s.Pos("image", "workdir"), "image.workdir %q must be an absolute path", img.Workdir))
	}
	for i, p := range img.Ports {
		if _, err := p.Normalize(); err != nil {
			add(s.errorAt(s.Pos("image", "ports", i), "image.ports[%d]: %v", i, err))
		}
	}
	for i, v := range img.Volumes {
		if !path.IsAbs(v) {
			add(s.errorAt(s.Pos("image", "volumes", i), "image.volumes[%d] %q must be an absolute path", i, v))
		}
	}
	if img.Stopsignal != "" && !validSignal(img.Stopsignal) {
		add(s.errorAt(s.Pos("image", "stopsignal"), "image.stopsignal %q is not a signal; use a name such as SIGTERM or a number", img.Stopsignal))
	}
	if hc := img.Healthcheck; hc != nil {
		if len(hc.Command) == 0 {
			add(s.errorAt(s.Pos("image", "healthcheck"), "image.healthcheck.command is missing; give the program and its arguments, such as [/usr/local/bin/server, -healthcheck]"))
		} else if hc.Command[0] == "CMD-SHELL" || hc.Command[0] == "/bin/sh" || hc.Command[0] == "sh" {
			add(s.errorAt(s.Pos("image", "healthcheck", "command"), "image.healthcheck.command runs a shell, and the image has none; call a program directly"))
		}
		for _, d := range []struct{ name, v string }{{"interval", hc.Interval}, {"timeout", hc.Timeout}, {"startPeriod", hc.StartPeriod}} {
			if d.v == "" {
				continue
			}
			if v, err := time.ParseDuration(d.v); err != nil || v < 0 {
				add(s.errorAt(s.Pos("image", "healthcheck", d.name), "image.healthcheck.%s %q is not a duration; write it like 30s or 1m", d.name, d.v))
			}
		}
		if hc.Retries < 0 {
			add(s.errorAt(s.Pos("image", "healthcheck", "retries"), "image.healthcheck.retries must not be negative"))
		}
	}
	for i, f := range img.Files {
		at := func(p ...any) Pos { return s.Pos(append([]any{"image", "files", i}, p...)...) }
		if clean, ok := contextPath(f.Src); f.Src == "" || !ok {
			add(s.errorAt(at("src"), "image.files[%d].src %q must be a path inside the build context", i, f.Src))
		} else {
			img.Files[i].Src = clean
		}
		if !path.IsAbs(f.Dst) {
			add(s.errorAt(at("dst"), "image.files[%d].dst %q must be an absolute path in the image", i, f.Dst))
		}
		if _, _, err := ParseOwner(f.Owner); err != nil {
			add(s.errorAt(at("owner"), "image.files[%d].owner: %v", i, err))
		}
		if _, err := ParseMode(f.Mode); err != nil {
			add(s.errorAt(at("mode"), "image.files[%d].mode: %v", i, err))
		}
	}
	return errs
}

func (s *Spec) validateTest() []error {
	var errs []error
	if len(s.Test.Packages) == 0 {
		s.Test.Packages = []string{"./..."}
	}
	for i, p := range s.Test.Packages {
		if p != "./..." && !isRelativePackage(strings.TrimSuffix(p, "/...")) {
			errs = append(errs, s.errorAt(s.Pos("test", "packages", i), "test.packages[%d] %q must be a package path inside the module, such as ./... or ./internal/...", i, p))
		}
	}
	for i, f := range s.Test.Flags {
		if err := checkFlag(f, testFlags); err != nil {
			errs = append(errs, s.errorAt(s.Pos("test", "flags", i), "test.flags[%d]: %v", i, err))
		} else if f == "-race" && !s.Test.Cgo {
			errs = append(errs, s.errorAt(s.Pos("test", "flags", i), "test.flags[%d]: -race needs cgo; set test.cgo: true", i))
		}
	}
	for i, tag := range s.Test.Tags {
		if !validTag(tag) {
			errs = append(errs, s.errorAt(s.Pos("test", "tags", i), "test.tags[%d] %q is not a build tag", i, tag))
		}
	}
	return append(errs, s.checkEnv([]any{"test", "env"}, s.Test.Env)...)
}

// checkEnv checks variable names and the templates in their values.
func (s *Spec) checkEnv(at []any, env map[string]string) []error {
	var errs []error
	name := describeAt(at)
	for _, k := range sortedKeys(env) {
		if !validEnvName(k) {
			errs = append(errs, s.errorAt(s.KeyPos(append(at, k)...), "%s %q is not a valid variable name", name, k))
		}
	}
	return append(errs, s.checkTemplates(at, env)...)
}

func (s *Spec) checkTemplates(at []any, m map[string]string) []error {
	var errs []error
	for _, k := range sortedKeys(m) {
		if err := checkTemplate(m[k]); err != nil {
			errs = append(errs, s.errorAt(s.Pos(append(at, k)...), "%s[%s]: %v", describeAt(at), k, err))
		}
	}
	return errs
}

func describeAt(at []any) string {
	var b strings.Builder
	for i, el := range at {
		switch el := el.(type) {
		case string:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(el)
		case int:
			fmt.Fprintf(&b, "[%d]", el)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

func checkBase(base string) error {
	if base == BaseStatic || base == BaseScratch {
		return nil
	}
	if _, err := reference.ParseNormalizedNamed(base); err != nil {
		return fmt.Errorf("%q is neither \"static\", \"scratch\" nor an image reference: %v", base, err)
	}
	return nil
}

// contextPath cleans a relative path and reports whether it stays inside
// the build context.
func contextPath(p string) (string, bool) {
	clean := path.Clean(p)
	if path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	return clean, true
}

func validTag(tag string) bool {
	return tag != "" && !strings.ContainsAny(tag, " ,\t\"'")
}

// linksStatically reports whether ldflags ask the external linker for a
// static binary.
func linksStatically(ldflags []string) bool {
	joined := strings.Join(ldflags, " ")
	return strings.Contains(joined, "-static")
}

var signalName = regexp.MustCompile(`^(SIG)?[A-Z][A-Z0-9+-]*$`)

func validSignal(s string) bool {
	if n, err := strconv.Atoi(s); err == nil {
		return n > 0 && n < 65
	}
	return signalName.MatchString(s)
}

// ParseOwner reads "uid" or "uid:gid"; empty means root.
func ParseOwner(owner string) (uid, gid int, err error) {
	if owner == "" {
		return 0, 0, nil
	}
	u, g, hasGroup := strings.Cut(owner, ":")
	uid, err1 := strconv.Atoi(u)
	gid = uid
	var err2 error
	if hasGroup {
		gid, err2 = strconv.Atoi(g)
	}
	if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return 0, 0, fmt.Errorf("%q is not a numeric uid or uid:gid (the image has no user database to look names up in)", owner)
	}
	return uid, gid, nil
}

// ParseMode reads an octal mode such as "0644"; empty means "keep the
// context's modes" and returns -1.
func ParseMode(mode string) (int, error) {
	if mode == "" {
		return -1, nil
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal file mode such as \"0644\"", mode)
	}
	return int(m), nil
}

// Allowed extra flags: gobuild owns the output, paths and what it builds,
// so flags that change those (-o, -toolexec, -exec, -overlay, -modfile)
// are refused.
var buildFlags = map[string]bool{
	"-a": false, "-v": false, "-x": false, "-cover": false,
	"-mod": true, "-pgo": true, "-buildmode": true, "-covermode": true, "-coverpkg": true, "-p": true,
}

var testFlags = map[string]bool{
	"-short": false, "-v": false, "-cover": false, "-failfast": false, "-race": false,
	"-run": true, "-skip": true, "-count": true, "-timeout": true, "-covermode": true, "-coverpkg": true,
	"-shuffle": true, "-bench": true, "-benchtime": true, "-cpu": true, "-parallel": true,
}

// checkFlag accepts "-name" or "-name=value" when allowed has the name;
// the bool says whether the flag takes a value.
func checkFlag(flag string, allowed map[string]bool) error {
	name, _, hasValue := strings.Cut(flag, "=")
	name = "-" + strings.TrimLeft(name, "-")
	takesValue, ok := allowed[name]
	if !ok {
		known := slices.Sorted(maps.Keys(allowed))
		return fmt.Errorf("flag %q is not allowed; allowed: %s", flag, strings.Join(known, " "))
	}
	if takesValue && !hasValue {
		return fmt.Errorf("flag %q needs a value: write it as %s=VALUE in one list item", flag, name)
	}
	if !takesValue && hasValue && name != "-v" && name != "-x" && name != "-a" {
		return fmt.Errorf("flag %q takes no value", flag)
	}
	return nil
}

func isRelativePackage(p string) bool {
	if p != "." && !strings.HasPrefix(p, "./") {
		return false
	}
	clean := path.Clean(p)
	return clean != ".." && !strings.HasPrefix(clean, "../") && !strings.Contains(p, "...")
}

func validEnvName(k string) bool {
	return k != "" && !strings.ContainsAny(k, "= \t\n")
}

// checkPlatform accepts what --platform accepts, limited to Linux: the
// image is a Linux container image.
func checkPlatform(p string) error {
	pl, err := platforms.Parse(p)
	if err != nil {
		return fmt.Errorf("%q is not a platform; write os/arch[/variant], such as \"linux/arm64\"", p)
	}
	if pl.OS != "linux" {
		return fmt.Errorf("%q: only linux images are supported", p)
	}
	if _, err := GoEnv(platforms.Normalize(pl).Architecture, platforms.Normalize(pl).Variant); err != nil {
		return fmt.Errorf("%q: %v", p, err)
	}
	return nil
}

// Normalize returns the port in the "8080/tcp" form of OCI image configs.
func (p Port) Normalize() (string, error) {
	num, proto, hasProto := strings.Cut(string(p), "/")
	if !hasProto {
		proto = "tcp"
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q is not a port; use a number from 1 to 65535, optionally with /tcp or /udp", string(p))
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return "", fmt.Errorf("%q: protocol must be tcp, udp or sctp", string(p))
	}
	return fmt.Sprintf("%d/%s", n, proto), nil
}

// goArches maps OCI architectures to GOARCH where the names differ.
var goArches = map[string]string{
	"amd64": "amd64", "386": "386", "arm": "arm", "arm64": "arm64",
	"ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x", "riscv64": "riscv64",
	"mips64le": "mips64le", "mips64": "mips64", "mipsle": "mipsle", "mips": "mips",
	"loong64": "loong64",
}

// GoEnv returns the GOARCH and variant settings (GOARM, GOAMD64, ...) for
// an OCI architecture and variant, so that cross-compiling targets exactly
// the platform the image claims.
func GoEnv(arch, variant string) (map[string]string, error) {
	goarch, ok := goArches[arch]
	if !ok {
		return nil, fmt.Errorf("architecture %q is not supported by Go", arch)
	}
	env := map[string]string{"GOARCH": goarch}
	switch arch {
	case "arm":
		switch variant {
		case "", "v7":
			env["GOARM"] = "7"
		case "v6":
			env["GOARM"] = "6"
		case "v5":
			env["GOARM"] = "5"
		default:
			return nil, fmt.Errorf("arm variant %q is not supported; use v5, v6 or v7", variant)
		}
	case "amd64":
		switch variant {
		case "", "v1":
		case "v2", "v3", "v4":
			env["GOAMD64"] = variant
		default:
			return nil, fmt.Errorf("amd64 variant %q is not supported; use v1 to v4", variant)
		}
	case "arm64":
		if variant != "" && variant != "v8" {
			// Go's GOARM64 takes v8.0 to v9.5; OCI names v8 and v9.
			if !strings.HasPrefix(variant, "v8") && !strings.HasPrefix(variant, "v9") {
				return nil, fmt.Errorf("arm64 variant %q is not supported", variant)
			}
			v := variant
			if !strings.Contains(v, ".") {
				v += ".0"
			}
			env["GOARM64"] = v
		}
	default:
		if variant != "" {
			return nil, fmt.Errorf("%s variant %q is not supported", arch, variant)
		}
	}
	return env, nil
}
