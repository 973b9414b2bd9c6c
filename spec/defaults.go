package spec

import (
	"cmp"
	"errors"
	"fmt"
	"go/version"
	"maps"
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
// packages, and what go.mod decides (the Go version, hence the builder, and
// the name of a binary built from the module root). goMod is the module's
// go.mod, nil when unknown; when it cannot decide what it must, every
// other default is still filled and the error says how to fix it. The
// spec must have passed Parse. Calling it again changes nothing.
func (s *Spec) FillDefaults(goMod []byte) error {
	if dir, ok := s.moduleDir(); ok {
		s.Module = dir
	}
	mod, modErr := parseGoMod(s.ModFile(), goMod)
	var errs []error
	for i := range s.Binaries {
		b := &s.Binaries[i]
		b.Name = b.nameOrDefault()
		if b.Name == "" && mod != nil && mod.Module != nil {
			b.Name = moduleBinaryName(mod.Module.Mod.Path)
		}
		b.Trimpath = orTrue(b.Trimpath)
		b.Strip = orTrue(b.Strip)
	}
	errs = append(errs, s.checkDefaultNames()...)
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
	for i := range img.Dirs {
		d := &img.Dirs[i]
		d.Path = cleanAbs(d.Path)
		d.Owner = cmp.Or(d.Owner, img.userOwner())
		d.Mode = cmp.Or(d.Mode, DefaultDirMode)
	}
	if len(s.Test.Packages) == 0 {
		s.Test.Packages = []string{"./..."}
	}
	s.Debug.Delve = cmp.Or(s.Debug.Delve, DefaultDelve)
	s.Debug.Listen = cmp.Or(s.Debug.Listen, DefaultDebugListen)
	s.Debug.Continue = orTrue(s.Debug.Continue)
	if err := s.fillGo(mod, modErr); err != nil {
		errs = append(errs, err)
	}
	s.filled = len(errs) == 0
	return joinErrors(s.filename, errs)
}

// fillGo fills the Go version and the builder. A version go.mod asks for
// is a minimum, so the default builder is the newest patch release of its
// minor line (golang:1.23 for "go 1.23.0"), never a release frozen with
// its bugs; go: or builder: in the spec pin one.
func (s *Spec) fillGo(mod *modfile.File, modErr error) error {
	if s.Go == "" {
		if modErr != nil {
			return modErr
		}
		v, directive, err := goModVersion(s.ModFile(), mod)
		if err != nil {
			return err
		}
		s.Go = strings.TrimPrefix(version.Lang("go"+v), "go")
		s.goFrom = fmt.Sprintf("%s's %s; the newest %s release", s.ModFile(), directive, s.Go)
	}
	s.Go = strings.TrimPrefix(s.Go, "go")
	s.goFrom = cmp.Or(s.goFrom, "the spec's go field")
	s.Builder = cmp.Or(s.Builder, "golang:"+s.Go)
	return nil
}

// checkDefaultNames reports binaries left without a name (the module root
// of a go.mod without a module path) and names that a default made equal.
func (s *Spec) checkDefaultNames() []error {
	var errs []error
	names := map[string]int{}
	for i, b := range s.Binaries {
		switch first, dup := names[b.Name]; {
		case b.Name == "":
			errs = append(errs, s.ErrorAt([]any{"binaries", i}, "binaries[%d].name is missing; a package at the module root takes go.mod's module path, and %s names none: set name", i, s.ModFile()))
		case dup:
			errs = append(errs, s.ErrorAt([]any{"binaries", i}, "binaries[%d] and binaries[%d] are both named %q; set a distinct name", first, i, b.Name))
		default:
			names[b.Name] = i
		}
	}
	return errs
}

// moduleBinaryName is the name go build gives a main package at the root
// of module path: its last element, skipping a major version suffix.
func moduleBinaryName(modulePath string) string {
	name := path.Base(modulePath)
	if digits, ok := strings.CutPrefix(name, "v"); ok && digits != "" && strings.Trim(digits, "0123456789") == "" {
		name = path.Base(path.Dir(modulePath))
	}
	if !binaryName.MatchString(name) {
		return ""
	}
	return name
}

// DefaultDirMode is the mode of image.dirs, the workdir and the volumes
// unless a dirs entry says otherwise.
const DefaultDirMode = "0755"

// userOwner is the owner the image's user gives its directories: the
// user when numeric, else root (a name cannot be looked up at build time).
func (img *Image) userOwner() string {
	if _, _, err := ParseOwner(cmp.Or(img.User, DefaultUser)); err != nil {
		return "0:0"
	}
	return cmp.Or(img.User, DefaultUser)
}

// cleanAbs cleans an absolute path; anything else is left for validation
// to report.
func cleanAbs(p string) string {
	if !path.IsAbs(p) {
		return p
	}
	return path.Clean(p)
}

// ImageDirs are the directories the image must hold for its user: the
// workdir and the volumes, owned by the user with mode 0755, then
// image.dirs (an entry for the same path wins), sorted by path so that a
// parent comes before its children. The spec must be filled.
func (s *Spec) ImageDirs() []Dir {
	img := &s.Image
	byPath := map[string]Dir{}
	implicit := img.Volumes
	if img.Workdir != "" {
		implicit = append([]string{img.Workdir}, implicit...)
	}
	for _, p := range implicit {
		p = cleanAbs(p)
		byPath[p] = Dir{Path: p, Owner: img.userOwner(), Mode: DefaultDirMode}
	}
	for _, d := range img.Dirs {
		byPath[d.Path] = d
	}
	dirs := slices.Collect(maps.Values(byPath))
	slices.SortFunc(dirs, func(a, b Dir) int { return cmp.Compare(a.Path, b.Path) })
	return dirs
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

// CheckBuilderGo reports a go.mod that needs a newer Go than the builder
// has (builderGo, as golang images say it in GOLANG_VERSION; empty when
// unknown). The go command refuses such a module with a message that names
// neither go.mod's line nor the fix, so it is said here, before any step.
func (s *Spec) CheckBuilderGo(goMod []byte, builderGo string) error {
	f, err := modfile.Parse(s.ModFile(), goMod, nil)
	if err != nil || f.Go == nil || builderGo == "" || !version.IsValid("go"+builderGo) {
		return nil
	}
	if tc := s.Env["GOTOOLCHAIN"]; tc != "" && tc != "local" {
		return nil // the spec lets go fetch the toolchain go.mod asks for
	}
	if version.Compare("go"+f.Go.Version, "go"+builderGo) <= 0 {
		return nil
	}
	return s.ErrorAt([]any{"builder"}, "%s:%d: go %s needs Go %s or newer, and the builder %s has Go %s; set builder: to an image with Go %s or newer (or go: %q), or lower go.mod's go line",
		s.ModFile(), f.Go.Syntax.Start.Line, f.Go.Version, f.Go.Version, s.Builder, builderGo, f.Go.Version, strings.TrimPrefix(version.Lang("go"+f.Go.Version), "go"))
}

// CheckBuilderMinimum reports a builder whose Go (builderGo, as in
// CheckBuilderGo) is older than minimum, which what needs: go would fail
// in a step, with a message that says neither why nor what to change.
func (s *Spec) CheckBuilderMinimum(builderGo, minimum, what string) error {
	if builderGo == "" || !version.IsValid("go"+builderGo) || version.Compare("go"+builderGo, "go"+minimum) >= 0 {
		return nil
	}
	field, from := "builder", "the spec's builder field"
	if !s.Has("builder") {
		// golang:<go>, from the spec's go field or go.mod's line.
		from = s.goFrom
		if s.Has("go") {
			field = "go"
		}
	}
	return s.ErrorAt([]any{field}, "the builder %s (from %s) has Go %s, and %s needs Go %s or newer; set go: %q (go.mod's go line is a minimum) or builder: to an image with Go %s or newer",
		s.Builder, from, builderGo, what, minimum, minimum, minimum)
}

func parseGoMod(filename string, goMod []byte) (*modfile.File, error) {
	if goMod == nil {
		return nil, fmt.Errorf("%s was not read; set \"go\" in the spec", filename)
	}
	f, err := modfile.Parse(filename, goMod, nil)
	if err != nil {
		return nil, fmt.Errorf("%w; fix go.mod (go mod tidy) or set \"go\" in the spec", err)
	}
	return f, nil
}

// GoVersion reads the Go version a module asks for: its toolchain
// directive, else its go directive.
func GoVersion(filename string, goMod []byte) (string, error) {
	f, err := modfile.Parse(filename, goMod, nil)
	if err != nil {
		return "", fmt.Errorf("%w; fix go.mod (go mod tidy) or set \"go\" in the spec", err)
	}
	v, _, err := goModVersion(filename, f)
	return v, err
}

// goModVersion is the version a parsed go.mod asks for, and the directive
// that says it.
func goModVersion(filename string, f *modfile.File) (v, directive string, err error) {
	if f.Toolchain != nil && f.Toolchain.Name != "default" {
		return strings.TrimPrefix(f.Toolchain.Name, "go"), "toolchain " + f.Toolchain.Name, nil
	}
	if f.Go != nil {
		return f.Go.Version, "go " + f.Go.Version, nil
	}
	return "", "", fmt.Errorf("%s has no go directive; add one (go mod edit -go=1.26) or set \"go\" in the spec", filename)
}

// Resolved returns the spec as YAML, for the "spec" target: after
// FillDefaults, what the build will actually do. A comment on the go
// field says where the version came from.
func (s *Spec) Resolved() ([]byte, error) {
	if !s.filled {
		return nil, ErrNotFilled
	}
	var doc yaml.Node
	if err := doc.Encode(s); err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "go" {
			doc.Content[i].LineComment = "from " + s.goFrom
		}
	}
	return yaml.Marshal(&doc)
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
