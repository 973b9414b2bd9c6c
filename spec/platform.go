package spec

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
)

// samePlatform reports whether a platform as the spec spells it names
// target: "linux/arm64" and "linux/arm64/v8" are the same platform. A
// spelling that does not parse names nothing (validation reports it).
func samePlatform(spelled string, target platforms.Platform) bool {
	parsed, err := platforms.Parse(spelled)
	return err == nil && platforms.Format(platforms.Normalize(parsed)) == platforms.Format(platforms.Normalize(target))
}

// platformKey finds the key of m that names target, however it is spelled.
func platformKey(target platforms.Platform, m map[string]string) (string, bool) {
	for _, k := range sortedKeys(m) {
		if samePlatform(k, target) {
			return k, true
		}
	}
	return "", false
}

// BaseFor returns the base of the image for a platform: image.bases'
// entry for it, else image.base.
func (s *Spec) BaseFor(target platforms.Platform) string {
	if k, ok := platformKey(target, s.Image.Bases); ok {
		return s.Image.Bases[k]
	}
	return s.Image.Base
}

// BasePath is where the base for a platform is set in the spec, for
// errors about it.
func (s *Spec) BasePath(target platforms.Platform) []any {
	if k, ok := platformKey(target, s.Image.Bases); ok {
		return []any{"image", "bases", k}
	}
	return []any{"image", "base"}
}

// BinaryTargets reports whether binary i is built for a platform.
func (s *Spec) BinaryTargets(i int, target platforms.Platform) bool {
	ps := s.Binaries[i].Platforms
	if len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if samePlatform(p, target) {
			return true
		}
	}
	return false
}

// CheckPlatform is checkPlatform for a platform the client asks for
// (--platform), which must name a platform the spec could.
func CheckPlatform(p platforms.Platform) error {
	return checkPlatform(platforms.Format(p))
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
	var err error
	switch arch {
	case "arm":
		err = armVariant(env, variant)
	case "amd64":
		err = amd64Variant(env, variant)
	case "arm64":
		err = arm64Variant(env, variant)
	default:
		if variant != "" {
			err = fmt.Errorf("%s variant %q is not supported", arch, variant)
		}
	}
	if err != nil {
		return nil, err
	}
	return env, nil
}

func armVariant(env map[string]string, variant string) error {
	switch variant {
	case "", "v7":
		env["GOARM"] = "7"
	case "v6":
		env["GOARM"] = "6"
	case "v5":
		env["GOARM"] = "5"
	default:
		return fmt.Errorf("arm variant %q is not supported; use v5, v6 or v7", variant)
	}
	return nil
}

func amd64Variant(env map[string]string, variant string) error {
	switch variant {
	case "", "v1":
	case "v2", "v3", "v4":
		env["GOAMD64"] = variant
	default:
		return fmt.Errorf("amd64 variant %q is not supported; use v1 to v4", variant)
	}
	return nil
}

func arm64Variant(env map[string]string, variant string) error {
	if variant == "" || variant == "v8" {
		return nil
	}
	// Go's GOARM64 takes v8.0 to v9.5; OCI names v8 and v9.
	if !strings.HasPrefix(variant, "v8") && !strings.HasPrefix(variant, "v9") {
		return fmt.Errorf("arm64 variant %q is not supported", variant)
	}
	if !strings.Contains(variant, ".") {
		variant += ".0"
	}
	env["GOARM64"] = variant
	return nil
}
