package spec

import (
	"cmp"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"
)

// ModFile is the path of go.mod inside the build context. It is right
// before defaults are filled too, since reading go.mod is how they start.
func (s *Spec) ModFile() string {
	dir, ok := s.moduleDir()
	if !ok {
		dir = s.Module // validation has reported it
	}
	return path.Join(dir, "go.mod")
}

// moduleDir is module, cleaned, "." when unset; false when it leaves the
// build context. Validation and FillDefaults both ask it.
func (s *Spec) moduleDir() (string, bool) {
	return contextPath(cmp.Or(s.Module, "."))
}

// baseOrDefault is image.base, "static" when unset.
func (img *Image) baseOrDefault() string { return cmp.Or(img.Base, BaseStatic) }

// nameOrDefault is the binary's name, the package's last path element
// when the spec gives none; empty for the module root, which needs one.
func (b *Binary) nameOrDefault() string { return cmp.Or(b.Name, defaultName(b.Package)) }

// FillDefaults gives every field its default, once, so that nothing after
// it decides a default again: module and paths cleaned, binary names,
// *bool switches resolved, the image's base, user and entrypoint, the test
// packages, and what go.mod decides (the Go version, hence the builder).
// goMod is the module's go.mod; when it does not give a version, every
// other default is still filled and the error says how to fix it. The
// spec must have passed Parse. Calling it again changes nothing.
func (s *Spec) FillDefaults(goMod []byte) error {
	if dir, ok := s.moduleDir(); ok {
		s.Module = dir
	}
	for i := range s.Binaries {
		b := &s.Binaries[i]
		b.Name = b.nameOrDefault()
		b.Trimpath = orTrue(b.Trimpath)
		b.Strip = orTrue(b.Strip)
	}
	img := &s.Image
	img.Base = img.baseOrDefault()
	img.Cacerts = orTrue(img.Cacerts)
	img.Tzdata = orTrue(img.Tzdata)
	img.User = cmp.Or(img.User, DefaultUser)
	if len(img.Entrypoint) == 0 && len(s.Binaries) > 0 && s.Binaries[0].Name != "" {
		img.Entrypoint = []string{path.Join(BinDir, s.Binaries[0].Name)}
	}
	for i := range img.Files {
		if clean, ok := contextPath(img.Files[i].Src); ok {
			img.Files[i].Src = clean
		}
	}
	if len(s.Test.Packages) == 0 {
		s.Test.Packages = []string{"./..."}
	}

	var err error
	if s.Go == "" {
		s.Go, err = GoVersion(s.ModFile(), goMod)
	}
	s.Go = strings.TrimPrefix(s.Go, "go")
	if s.Go != "" {
		s.Builder = cmp.Or(s.Builder, "golang:"+s.Go)
	}
	s.filled = err == nil
	return err
}

// Filled reports whether FillDefaults completed: code that reads the spec
// for a build checks it rather than guess a default of its own.
func (s *Spec) Filled() bool { return s.filled }

// ErrNotFilled is returned by code that needs a spec's defaults when
// FillDefaults has not run.
var ErrNotFilled = errors.New("the spec's defaults are not filled in (FillDefaults)")

func orTrue(b *bool) *bool {
	if b != nil {
		return b
	}
	on := true
	return &on
}

// defaultName is a binary's name when the spec gives none: the package's
// last path element, which the module root does not have.
func defaultName(pkg string) string {
	if pkg == "" {
		return ""
	}
	name := path.Base(path.Clean(pkg))
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	return name
}

// GoVersion reads the Go version a module asks for: its toolchain
// directive, else its go directive.
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

// Resolved returns the spec as YAML, for the "spec" target: after
// FillDefaults, what the build will actually do.
func (s *Spec) Resolved() ([]byte, error) {
	if !s.filled {
		return nil, ErrNotFilled
	}
	return yaml.Marshal(s)
}

type moduleSettingField struct{ env, field string }

// moduleSettingFields are the spec's go environment settings for module
// downloads, sorted by variable name.
var moduleSettingFields = []moduleSettingField{
	{"GOEXPERIMENT", "goexperiment"},
	{"GOFLAGS", "goflags"},
	{"GONOSUMDB", "gonosumdb"},
	{"GOPRIVATE", "goprivate"},
	{"GOPROXY", "goproxy"},
}

// moduleSetting returns a pointer to the field a module setting is kept in.
func (s *Spec) moduleSetting(field string) *string {
	switch field {
	case "goproxy":
		return &s.Goproxy
	case "goprivate":
		return &s.Goprivate
	case "gonosumdb":
		return &s.Gonosumdb
	case "goflags":
		return &s.Goflags
	case "goexperiment":
		return &s.Goexperiment
	}
	panic("unknown module setting " + field)
}

// ModuleSettings are the go environment variables the spec sets for module
// downloads, by variable name; empty values are unset.
func (s *Spec) ModuleSettings() map[string]string {
	m := map[string]string{}
	for _, f := range moduleSettingFields {
		m[f.env] = *s.moduleSetting(f.field)
	}
	return m
}

// UsesBuildvcs reports whether a binary stamps VCS data, and so needs .git.
func (s *Spec) UsesBuildvcs() bool {
	return slices.ContainsFunc(s.Binaries, func(b Binary) bool { return b.Buildvcs })
}

// UsesCgo reports whether a binary is built with cgo.
func (s *Spec) UsesCgo() bool {
	return slices.ContainsFunc(s.Binaries, func(b Binary) bool { return b.Cgo })
}
