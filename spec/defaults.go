package spec

import (
	"fmt"
	"path"
	"strings"

	"github.com/containerd/platforms"
	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"
)

// ModFile is the path of go.mod inside the build context.
func (s *Spec) ModFile() string { return path.Join(s.Module, "go.mod") }

// ApplyDefaults fills what depends on the module: the Go version from
// go.mod (its toolchain directive, else its go directive) and the builder
// image for that version.
func (s *Spec) ApplyDefaults(goMod []byte) error {
	if s.Go == "" {
		v, err := GoVersion(s.ModFile(), goMod)
		if err != nil {
			return err
		}
		s.Go = v
	}
	s.Go = strings.TrimPrefix(s.Go, "go")
	if s.Builder == "" {
		s.Builder = "golang:" + s.Go
	}
	return nil
}

// GoVersion reads the Go version a module asks for.
func GoVersion(filename string, goMod []byte) (string, error) {
	f, err := modfile.Parse(filename, goMod, nil)
	if err != nil {
		return "", fmt.Errorf("%w; fix go.mod (go mod tidy) or set \"go\" in the spec", err)
	}
	if f.Toolchain != nil && f.Toolchain.Name != "default" {
		return strings.TrimPrefix(f.Toolchain.Name, "go"), nil
	}
	if f.Go != nil {
		return f.Go.Version, nil
	}
	return "", fmt.Errorf("%s has no go directive; add one (go mod edit -go=1.26) or set \"go\" in the spec", filename)
}

// BaseFor returns the base of the image for a platform: image.bases'
// entry for it, else image.base.
func (s *Spec) BaseFor(target platforms.Platform) string {
	if base, ok := s.Image.Bases[platformKey(target, s.Image.Bases)]; ok {
		return base
	}
	return s.Image.Base
}

// BinaryTargets reports whether binary i is built for a platform.
func (s *Spec) BinaryTargets(i int, target platforms.Platform) bool {
	ps := s.Binaries[i].Platforms
	if len(ps) == 0 {
		return true
	}
	want := platforms.Format(platforms.Normalize(target))
	for _, p := range ps {
		if parsed, err := platforms.Parse(p); err == nil && platforms.Format(platforms.Normalize(parsed)) == want {
			return true
		}
	}
	return false
}

// platformKey finds the key of m that names target, however it is spelled
// ("linux/arm64" and "linux/arm64/v8" are the same platform).
func platformKey(target platforms.Platform, m map[string]string) string {
	want := platforms.Format(platforms.Normalize(target))
	for k := range m {
		if parsed, err := platforms.Parse(k); err == nil && platforms.Format(platforms.Normalize(parsed)) == want {
			return k
		}
	}
	return ""
}

// Resolved returns the spec as YAML with every default filled in, for the
// "spec" target: what the build will actually do.
func (s *Spec) Resolved() ([]byte, error) {
	r := *s
	on := func(b *bool) *bool {
		v := BoolValue(b, true)
		return &v
	}
	r.Binaries = make([]Binary, len(s.Binaries))
	for i, b := range s.Binaries {
		b.Trimpath, b.Strip = on(b.Trimpath), on(b.Strip)
		r.Binaries[i] = b
	}
	r.Image.Cacerts, r.Image.Tzdata = on(s.Image.Cacerts), on(s.Image.Tzdata)
	return yaml.Marshal(&r)
}

// ModuleSettings are the go environment variables the spec sets for module
// downloads, by variable name; empty values are unset.
func (s *Spec) ModuleSettings() map[string]string {
	return map[string]string{
		"GOPROXY":      s.Goproxy,
		"GOPRIVATE":    s.Goprivate,
		"GONOSUMDB":    s.Gonosumdb,
		"GOFLAGS":      s.Goflags,
		"GOEXPERIMENT": s.Goexperiment,
	}
}

// UsesBuildvcs reports whether a binary stamps VCS data, and so needs .git.
func (s *Spec) UsesBuildvcs() bool {
	for _, b := range s.Binaries {
		if b.Buildvcs {
			return true
		}
	}
	return false
}

// UsesCgo reports whether a binary is built with cgo.
func (s *Spec) UsesCgo() bool {
	for _, b := range s.Binaries {
		if b.Cgo {
			return true
		}
	}
	return false
}
