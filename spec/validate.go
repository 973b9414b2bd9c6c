package spec

import (
	"errors"
	"fmt"
	"go/version"
	"path"
	"regexp"
	"strconv"
	"strings"

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
	if clean := path.Clean(s.Module); path.IsAbs(s.Module) || clean == ".." || strings.HasPrefix(clean, "../") {
		add(s.errorAt(s.Pos("module"), "module %q must be a directory inside the build context, such as \".\" or \"./service\"", s.Module))
	} else {
		s.Module = clean
	}
	if s.Builder != "" {
		if _, err := reference.ParseNormalizedNamed(s.Builder); err != nil {
			add(s.errorAt(s.Pos("builder"), "builder %q is not an image reference: %v", s.Builder, err))
		}
	}

	if len(s.Binaries) == 0 {
		add(s.errorAt(s.Pos("binaries"), "binaries is missing or empty; list at least one main package, such as \"binaries: [{package: ./cmd/server}]\""))
	}
	names := map[string]int{}
	for i := range s.Binaries {
		b := &s.Binaries[i]
		if b.Package == "" {
			add(s.errorAt(s.Pos("binaries", i), "binaries[%d].package is missing; name a main package such as \"./cmd/server\"", i))
			continue
		}
		if !isRelativePackage(b.Package) {
			add(s.errorAt(s.Pos("binaries", i, "package"), "binaries[%d].package %q must be a path inside the module starting with \"./\", such as \"./cmd/server\"", i, b.Package))
			continue
		}
		if b.Name == "" {
			b.Name = path.Base(path.Clean(b.Package))
			if b.Name == "." {
				add(s.errorAt(s.Pos("binaries", i), "binaries[%d].name is missing; a package at the module root needs a name", i))
				continue
			}
		}
		if !binaryName.MatchString(b.Name) {
			add(s.errorAt(s.Pos("binaries", i, "name"), "binaries[%d].name %q is not a file name; use letters, digits, '.', '_' and '-'", i, b.Name))
		}
		if first, dup := names[b.Name]; dup {
			add(s.errorAt(s.Pos("binaries", i), "binaries[%d] and binaries[%d] are both named %q; set a distinct name", first, i, b.Name))
		}
		names[b.Name] = i
		for j, tag := range b.Tags {
			if tag == "" || strings.ContainsAny(tag, " ,\t") {
				add(s.errorAt(s.Pos("binaries", i, "tags", j), "binaries[%d].tags[%d] %q is not a build tag", i, j, tag))
			}
		}
		for j, flag := range b.Ldflags {
			if err := checkTemplate(flag); err != nil {
				add(s.errorAt(s.Pos("binaries", i, "ldflags", j), "binaries[%d].ldflags[%d]: %v", i, j, err))
			}
		}
	}

	for i, p := range s.Platforms {
		if err := checkPlatform(p); err != nil {
			add(s.errorAt(s.Pos("platforms", i), "platforms[%d]: %v", i, err))
		}
	}
	for k := range s.Env {
		if !validEnvName(k) {
			add(s.errorAt(s.KeyPos("env", k), "env %q is not a valid variable name", k))
		}
	}
	errs = append(errs, s.validateImage()...)
	return errors.Join(errs...)
}

func (s *Spec) validateImage() []error {
	var errs []error
	img := &s.Image
	switch img.Base {
	case "":
		img.Base = BaseStatic
	case BaseStatic, BaseScratch:
	default:
		if _, err := reference.ParseNormalizedNamed(img.Base); err != nil {
			errs = append(errs, s.errorAt(s.Pos("image", "base"), "image.base %q is neither \"static\", \"scratch\" nor an image reference: %v", img.Base, err))
		}
	}
	if img.User == "" {
		img.User = DefaultUser
	}
	if len(img.Entrypoint) == 0 && len(s.Binaries) > 0 && s.Binaries[0].Name != "" {
		img.Entrypoint = []string{path.Join(BinDir, s.Binaries[0].Name)}
	}
	for k := range img.Env {
		if !validEnvName(k) {
			errs = append(errs, s.errorAt(s.KeyPos("image", "env", k), "image.env %q is not a valid variable name", k))
		}
	}
	if img.Workdir != "" && !path.IsAbs(img.Workdir) {
		errs = append(errs, s.errorAt(s.Pos("image", "workdir"), "image.workdir %q must be an absolute path", img.Workdir))
	}
	for i, p := range img.Ports {
		if _, err := p.Normalize(); err != nil {
			errs = append(errs, s.errorAt(s.Pos("image", "ports", i), "image.ports[%d]: %v", i, err))
		}
	}
	return errs
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
