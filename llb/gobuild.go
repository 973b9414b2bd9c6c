package llb

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Built is one compiled binary: a state holding it at File.
type Built struct {
	Name  string
	State bkllb.State
	File  string
}

// Binaries compiles every binary of the spec that targets opt's platform.
// Binaries built with the same flags and environment share one go build,
// which compiles the packages they share once; see buildGroups.
func Binaries(s *spec.Spec, opt Options) ([]Built, error) {
	p, err := newPlatformBuild(s, opt)
	if err != nil {
		return nil, err
	}
	var selected []int
	for i := range s.Binaries {
		if s.BinaryTargets(i, p.target) {
			selected = append(selected, i)
		}
	}
	if len(selected) == 0 {
		return nil, s.ErrorAt([]any{"binaries"}, "no binary is built for %s; widen a binary's platforms or drop the platform", platforms.Format(p.target))
	}
	groups, err := buildGroups(s, selected, p.target, p.data)
	if err != nil {
		return nil, err
	}
	bins := make([]Built, len(s.Binaries))
	for _, group := range groups {
		out, files, err := p.goBuild(group)
		if err != nil {
			return nil, err
		}
		for j, i := range group {
			bins[i] = Built{Name: s.Binaries[i].Name, State: out, File: files[j]}
		}
	}
	var built []Built
	for _, i := range selected {
		built = append(built, bins[i])
	}
	return built, nil
}

// platformBuild is what every go build for one target platform shares.
type platformBuild struct {
	s      *spec.Spec
	opt    Options
	target ocispecs.Platform
	data   spec.TemplateData
	// goEnv selects the target: GOARCH and its variant (GOARM, GOAMD64...).
	goEnv map[string]string
	// root is where go build runs, modules the mount that gives it the
	// downloaded modules.
	root    bkllb.State
	modules bkllb.RunOption
}

func newPlatformBuild(s *spec.Spec, opt Options) (*platformBuild, error) {
	target := platforms.Normalize(opt.TargetPlatform)
	goEnv, err := spec.GoEnv(target.Architecture, target.Variant)
	if err != nil {
		return nil, fmt.Errorf("platform %s: %w", platforms.Format(target), err)
	}
	data := opt.templateData(target)
	root, modules, err := download(s, opt, data)
	if err != nil {
		return nil, err
	}
	return &platformBuild{s: s, opt: opt, target: target, data: data, goEnv: goEnv, root: root, modules: modules}, nil
}

// buildGroups splits the binaries into go builds. Binaries whose go build
// command lines (but for -o and the package) and environments are equal
// build together: go then type-checks and compiles each shared package
// once, where separate go builds running side by side on a cold cache
// compile every shared package each (docs/design.md, Parallelism). A
// binary stays on its own when go would name its executable ambiguously
// (the module root, a major version directory, a name another binary of
// the group has) or when it uses cgo, whose errors need their binary.
func buildGroups(s *spec.Spec, selected []int, target ocispecs.Platform, data spec.TemplateData) ([][]int, error) {
	var groups [][]int
	byKey := map[string]int{}          // build settings -> index in groups
	names := map[int]map[string]bool{} // executables of each group
	for _, i := range selected {
		b := s.Binaries[i]
		name, ok := execName(b.Package)
		if b.Cgo || target.OS == "windows" || !ok {
			groups = append(groups, []int{i})
			continue
		}
		args, err := BuildArgs(s, i, data)
		if err != nil {
			return nil, err
		}
		key := strings.Join(args[:len(args)-3], "\x00") // without -o OUT PACKAGE
		for _, k := range slices.Sorted(maps.Keys(b.Env)) {
			key += "\x00" + k + "=" + b.Env[k]
		}
		g, found := byKey[key]
		if found && !names[g][name] {
			groups[g] = append(groups[g], i)
			names[g][name] = true
			continue
		}
		if !found {
			byKey[key] = len(groups)
			names[len(groups)] = map[string]bool{name: true}
		}
		groups = append(groups, []int{i})
	}
	return groups, nil
}

// execName is the file name go build -o DIR/ gives a main package's
// executable: the last element of its import path. It reports false where
// that name depends on the module path (".", a major version suffix) or
// the pattern is not a plain directory.
func execName(pkg string) (string, bool) {
	p := path.Clean(pkg)
	elem := path.Base(p)
	if p == "." || elem == ".." || strings.Contains(p, "...") || isMajorVersion(elem) {
		return "", false
	}
	return elem, true
}

// isMajorVersion reports whether elem is a module major version suffix
// such as v2, which go skips when it names an executable.
func isMajorVersion(elem string) bool {
	digits, ok := strings.CutPrefix(elem, "v")
	return ok && digits != "" && strings.Trim(digits, "0123456789") == ""
}

// BuildArgs returns the go build command line for one binary.
func BuildArgs(s *spec.Spec, i int, data spec.TemplateData) ([]string, error) {
	b := s.Binaries[i]
	args := []string{"go", "build"}
	if spec.BoolValue(b.Trimpath, true) {
		args = append(args, "-trimpath")
	}
	args = append(args, "-buildvcs="+fmt.Sprint(b.Buildvcs))
	if len(b.Tags) > 0 {
		args = append(args, "-tags", strings.Join(b.Tags, ","))
	}
	var ldflags []string
	if spec.BoolValue(b.Strip, true) {
		ldflags = append(ldflags, "-s", "-w")
	}
	for j, f := range b.Ldflags {
		v, err := spec.Render(f, data)
		if err != nil {
			return nil, s.ErrorAt([]any{"binaries", i, "ldflags", j}, "%v", err)
		}
		ldflags = append(ldflags, v)
	}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags", strings.Join(ldflags, " "))
	}
	if len(b.Gcflags) > 0 {
		args = append(args, "-gcflags", strings.Join(b.Gcflags, " "))
	}
	if len(b.Asmflags) > 0 {
		args = append(args, "-asmflags", strings.Join(b.Asmflags, " "))
	}
	args = append(args, b.Flags...)
	return append(args, "-o", path.Join(outDir, b.Name), b.Package), nil
}

// goBuild runs one go build for the binaries of group, which buildGroups
// made alike. It returns the output state and each binary's path in it.
func (p *platformBuild) goBuild(group []int) (bkllb.State, []string, error) {
	s, opt := p.s, p.opt
	args, files, packages, err := p.groupArgs(group)
	if err != nil {
		return bkllb.State{}, nil, err
	}
	env, err := p.buildEnv(group[0])
	if err != nil {
		return bkllb.State{}, nil, err
	}
	var where []bkllb.RunOption
	for _, j := range group {
		where = append(where, location(s, opt, "binaries", j))
	}
	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		credentials(),
		bkllb.Dir(path.Join(srcDir, s.Module)),
		bkllb.AddMount(srcDir, goSources(s, opt), bkllb.Readonly),
		p.modules,
		cacheMount(opt, buildCache, "gobuild-gocache"),
		bkllb.WithCustomName(fmt.Sprintf("go build %s (%s)", strings.Join(packages, " "), platforms.Format(p.target))),
		runOptions(where...),
	}
	run := p.root.Run(append(runOpts, env...)...)
	return run.AddMount(outDir, bkllb.Scratch()), files, nil
}

// groupArgs is the go build command line for a group, with the path of
// each binary in the output and the packages built.
func (p *platformBuild) groupArgs(group []int) (args, files, packages []string, err error) {
	b := p.s.Binaries[group[0]]
	args, err = BuildArgs(p.s, group[0], p.data)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(group) == 1 {
		return args, []string{"/" + b.Name}, []string{b.Package}, nil
	}
	// go build -o DIR/ names each executable after its package; the
	// image takes it from there under the binary's own name.
	args = append(args[:len(args)-2], outDir+"/")
	for _, j := range group {
		name, _ := execName(p.s.Binaries[j].Package)
		args = append(args, p.s.Binaries[j].Package)
		files = append(files, "/"+name)
		packages = append(packages, p.s.Binaries[j].Package)
	}
	return args, files, packages, nil
}

// buildEnv is the go build environment of binary i, which speaks for its
// group: cross-compiling to the target, cgo only on the build platform.
func (p *platformBuild) buildEnv(i int) ([]bkllb.RunOption, error) {
	s, target := p.s, p.target
	b := s.Binaries[i]
	env := map[string]string{"CGO_ENABLED": "0", "GOOS": target.OS}
	if b.Cgo {
		buildPlatform := platforms.Normalize(p.opt.BuildPlatform)
		if platforms.Format(buildPlatform) != platforms.Format(target) {
			return nil, s.ErrorAt([]any{"binaries", i, "cgo"},
				"binaries[%d] uses cgo, which builds only for the build platform %s, not %s; limit it with platforms: [%s] or drop cgo",
				i, platforms.Format(buildPlatform), platforms.Format(target), platforms.Format(buildPlatform))
		}
		env["CGO_ENABLED"] = "1"
	}
	maps.Copy(env, p.goEnv)
	return goCommandEnv(s, p.data, mergeEnv(env, b.Env), "binaries", i, "env")
}

// mergeEnv returns base with the binary's own env on top; the binary's
// values are rendered later, where their positions are known.
func mergeEnv(base, own map[string]string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, own)
	return out
}

func cacheMount(opt Options, dir, id string) bkllb.RunOption {
	return bkllb.AddMount(dir, bkllb.Scratch(), bkllb.AsPersistentCacheDir(opt.CacheNamespace+id, bkllb.CacheMountShared))
}

// goCommandEnv is the environment of every go command: the module
// settings, the spec's env and extra, sorted so that the definition does not
// depend on map order.
func goCommandEnv(s *spec.Spec, data spec.TemplateData, extra map[string]string, extraPath ...any) ([]bkllb.RunOption, error) {
	env := map[string]string{
		"GOMODCACHE": modCacheDir,
		"GOCACHE":    buildCache,
		// The toolchain is the builder image's; never download another one
		// behind the user's back.
		"GOTOOLCHAIN": "local",
	}
	moduleSettings, err := renderMap(s, data, s.ModuleSettings())
	if err != nil {
		return nil, err
	}
	for k, v := range moduleSettings {
		if v != "" {
			env[k] = v
		}
	}
	specEnv, err := renderMap(s, data, s.Env, "env")
	if err != nil {
		return nil, err
	}
	maps.Copy(env, specEnv)
	if len(extraPath) > 0 {
		rendered, err := renderMap(s, data, extra, extraPath...)
		if err != nil {
			return nil, err
		}
		extra = rendered
	}
	maps.Copy(env, extra)
	var opts []bkllb.RunOption
	for _, k := range slices.Sorted(maps.Keys(env)) {
		opts = append(opts, bkllb.AddEnv(k, env[k]))
	}
	return opts, nil
}

// renderMap expands the templates in m's values; errors point at the
// value's line.
func renderMap(s *spec.Spec, data spec.TemplateData, m map[string]string, at ...any) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		r, err := spec.Render(v, data)
		if err != nil {
			if len(at) == 0 { // module settings: the key is the field
				return nil, s.ErrorAt([]any{strings.ToLower(k)}, "%s: %v", strings.ToLower(k), err)
			}
			return nil, s.ErrorAt(append(slices.Clone(at), k), "%v", err)
		}
		out[k] = r
	}
	return out, nil
}
