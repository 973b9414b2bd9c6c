package spec

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/mod/modfile"
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
