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

// Built is one compiled binary: a state holding it at File, its place in
// the image. The state is the binaries' layer of the go build that made
// it, which may hold others too.
type Built struct {
	Name  string
	State bkllb.State
	File  string
	// build numbers the go build that made it among the platform's.
	build int
}

// Binaries compiles every binary of the spec that targets opt's platform.
// Binaries built with the same flags and environment share one go build,
// which compiles the packages they share once; see buildGroups.
func Binaries(s *spec.Spec, opt Options) ([]Built, error) {
	if !s.Filled() {
		return nil, spec.ErrNotFilled
	}
	target := platforms.Normalize(opt.TargetPlatform)
	p, selected, err := newPlatformBuild(s, opt, target)
	if err != nil {
		return nil, err
	}
	if len(selected) == 0 {
		return nil, s.ErrorAt([]any{"binaries"}, "no binary is built for %s; widen a binary's platforms or drop the platform", platforms.Format(target))
	}
	p.reached = reachedSources(s, opt)
	groups := buildGroups(s, p.s, selected, target)
	bins := make([]Built, len(s.Binaries))
	for g, group := range groups {
		out, files, err := p.goBuild(group)
		if err != nil {
			return nil, err
		}
		for j, i := range group {
			bins[i] = Built{Name: s.Binaries[i].Name, State: out, File: files[j], build: g}
		}
	}
	var built []Built
	for _, i := range selected {
		built = append(built, bins[i])
	}
	return built, nil
}

// newPlatformBuild renders s for target and returns what its go builds
// share, with the binaries built for it.
func newPlatformBuild(s *spec.Spec, opt Options, target ocispecs.Platform) (*platformBuild, []int, error) {
	goEnv, err := spec.GoEnv(target.Architecture, target.Variant)
	if err != nil {
		return nil, nil, fmt.Errorf("platform %s: %w", platforms.Format(target), err)
	}
	selected, parts := binaryParts(s, target)
	data := opt.templateData(target)
	rendered, err := s.Rendered(data, parts...)
	if err != nil {
		return nil, nil, err
	}
	if err := quoteLdflags(s, rendered, data, selected); err != nil {
		return nil, nil, err
	}
	if err := samePartitionSettings(s, rendered, opt); err != nil {
		return nil, nil, err
	}
	return &platformBuild{s: rendered, opt: opt, target: target, goEnv: goEnv, modules: download(rendered, opt)}, selected, nil
}

// binaryParts are the binaries built for target and the templated parts
// of the spec their go builds read. Only those are rendered: a build-arg
// read by a binary of another platform is not needed here.
func binaryParts(s *spec.Spec, target ocispecs.Platform) (selected []int, parts []spec.Part) {
	parts = []spec.Part{spec.PartGo}
	for i := range s.Binaries {
		if s.BinaryTargets(i, target) {
			selected = append(selected, i)
			parts = append(parts, spec.PartBinary(i))
		}
	}
	return selected, parts
}

// CheckTemplates renders every template that building opt's platform
// renders (the image's too when image is set), so that every mistake is
// reported in one round, before anything is solved.
func CheckTemplates(s *spec.Spec, opt Options, image bool) error {
	target := platforms.Normalize(opt.TargetPlatform)
	selected, parts := binaryParts(s, target)
	if image {
		parts = append(parts, spec.PartImage)
	}
	data := opt.templateData(target)
	rendered, err := s.Rendered(data, parts...)
	if err != nil {
		return err
	}
	return quoteLdflags(s, rendered, data, selected)
}

// CheckTestTemplates renders every template the test and vet targets
// render.
func CheckTestTemplates(s *spec.Spec, opt Options) error {
	_, err := s.Rendered(opt.templateData(platforms.Normalize(opt.BuildPlatform)), spec.PartGo, spec.PartTest)
	return err
}

// platformBuild is what every go build for one target platform shares.
type platformBuild struct {
	// s has the templates of the go commands rendered for target.
	s      *spec.Spec
	opt    Options
	target ocispecs.Platform
	// goEnv selects the target: GOARCH and its variant (GOARM, GOAMD64...).
	goEnv map[string]string
	// modules is how go build reaches the downloaded modules.
	modules moduleAccess
	// reached, when set, is the layer of the standard library's sources
	// the go builds that reachedJob describes read (llb/stdsources.go).
	reached *reachedLayer
}

// buildGroups splits the binaries into go builds. Binaries whose go build
// command lines (but for -o and the package) and environments are equal
// build together: go then type-checks and compiles each shared package
// once, where separate go builds running side by side on a cold cache
// compile every shared package each (docs/design.md, Parallelism). A
// binary stays on its own when go would name its executable ambiguously
// (the module root, a major version directory, a name another binary of
// the group has) or when it uses cgo, whose errors need their binary.
// The env part of the key is the spec's text, not its rendering, so that
// binaries whose env differs in the spec never share a step.
func buildGroups(s, rendered *spec.Spec, selected []int, target ocispecs.Platform) [][]int {
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
		args := buildArgs(rendered, i)
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
	return groups
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

// buildArgs returns the go build command line for one binary of a spec
// whose defaults are filled and whose ldflags are rendered.
func buildArgs(s *spec.Spec, i int) []string {
	b := s.Binaries[i]
	args := []string{"go", "build"}
	if *b.Trimpath {
		args = append(args, "-trimpath")
	}
	args = append(args, "-buildvcs="+fmt.Sprint(b.Buildvcs))
	if len(b.Tags) > 0 {
		args = append(args, "-tags", strings.Join(b.Tags, ","))
	}
	var ldflags []string
	if *b.Strip {
		ldflags = append(ldflags, "-s", "-w")
	}
	ldflags = append(ldflags, b.Ldflags...)
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
	return append(args, "-o", path.Join(goOutDir, b.Name), b.Package)
}

// goBuild runs one go build for the binaries of group, which buildGroups
// made alike. It returns the output state and each binary's path in it.
func (p *platformBuild) goBuild(group []int) (bkllb.State, []string, error) {
	s, opt := p.s, p.opt
	args, files, packages := p.groupArgs(group)
	i := group[0]
	envMap, err := p.buildEnv(i)
	if err != nil {
		return bkllb.State{}, nil, err
	}
	values := envValues(s, envMap, []any{"binaries", i, "env"}, []any{"env"})
	for j, ld := range s.Binaries[i].Ldflags {
		values = append(values, sizedValue{[]any{"binaries", i, "ldflags", j}, len(ld)})
	}
	what := fmt.Sprintf("go build of binaries[%d]", i)
	if err := checkCommandLine(s, what, args, envMap, values, []any{"binaries", i}); err != nil {
		return bkllb.State{}, nil, err
	}
	var where []bkllb.RunOption
	for _, j := range group {
		where = append(where, location(s, opt, "binaries", j))
	}
	// cgo runs the builder's C toolchain on the project's C code: such a
	// build reads a copy of the modules and writes its project's build
	// cache, never the shared ones (llb/isolation.go).
	modules, cache := p.modules.trusted, cacheMount(opt, buildCache, opt.sharedCacheID("gobuild-gocache"))
	if s.Binaries[group[0]].Cgo {
		modules, cache = p.modules.untrusted, cacheMount(opt, buildCache, projectCacheID(s, opt, "cgo"))
	}
	// The step has the credentials: its result is the partition's.
	envMap["GOBUILD_MODULE_PARTITION"] = opt.partitionName()
	var seedOpts []bkllb.RunOption
	if layers := p.dependencyLayers(group, envMap); len(layers) > 0 {
		args, seedOpts = seeded(args, layers, opt)
		cache = seededCache(s, opt)
	}
	// -buildvcs runs git, which the toolchain layer lacks.
	root, afterDownload := p.modules.on(opt, opt.compilesOnToolchain(s.Binaries[i], envMap) && !s.Binaries[i].Buildvcs)
	if reached, reachedModules, ok := p.reachedMount(group); ok {
		root, afterDownload = p.modules.onSources(opt, reached)
		if reachedModules != nil {
			modules = reachedModules
			args = append([]string{helperBinary, "reached", reachedModCacheDir, "--"}, args...)
		}
	}
	args, paths := p.placed(args, group, files)
	env := envOptions(envMap)
	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		afterDownload,
		opt.credentials(),
		bkllb.Dir(path.Join(srcDir, s.Module)),
		bkllb.AddMount(srcDir, goSources(s, opt), bkllb.Readonly),
		modules,
		cache,
		bkllb.WithCustomName(StepGoBuild(platforms.Format(p.target), packages...)),
		runOptions(where...),
		helperMount(opt),
	}
	runOpts = append(runOpts, seedOpts...)
	run := root.Run(append(runOpts, env...)...)
	return run.AddMount(outDir, bkllb.Scratch()), paths, nil
}

// groupArgs is the go build command line for a group, with the path of
// each binary go build writes, relative to goOutDir, and the packages
// built.
func (p *platformBuild) groupArgs(group []int) (args, files, packages []string) {
	b := p.s.Binaries[group[0]]
	args = buildArgs(p.s, group[0])
	if len(group) == 1 {
		return args, []string{b.Name}, []string{b.Package}
	}
	// go build -o DIR/ names each executable after its package; the
	// helper moves it to the binary's own name.
	args = append(args[:len(args)-2], goOutDir+"/")
	for _, j := range group {
		name, _ := execName(p.s.Binaries[j].Package)
		args = append(args, p.s.Binaries[j].Package)
		files = append(files, name)
		packages = append(packages, p.s.Binaries[j].Package)
	}
	return args, files, packages
}

// placed runs a go build with its binaries moved to their places in the
// image and every file dated at the Unix epoch: the output is then the
// binaries' layer, made without a copy. It returns each binary's path in
// the output, in group's order.
func (p *platformBuild) placed(args []string, group []int, files []string) ([]string, []string) {
	wrapped := []string{helperBinary, "place", outDir}
	var paths []string
	for j, i := range group {
		dst := path.Join(spec.BinDir, p.s.Binaries[i].Name)
		wrapped = append(wrapped, path.Join(goOutName, files[j]), strings.TrimPrefix(dst, "/"))
		paths = append(paths, dst)
	}
	return append(append(wrapped, "--"), args...), paths
}

// buildEnv is the go build environment of binary i, which speaks for its
// group: cross-compiling to the target, cgo only on the build platform.
func (p *platformBuild) buildEnv(i int) (map[string]string, error) {
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
	maps.Copy(env, b.Env)
	return commandEnv(s, env), nil
}

func cacheMount(opt Options, dir, id string) bkllb.RunOption {
	return bkllb.AddMount(dir, bkllb.Scratch(), bkllb.AsPersistentCacheDir(opt.CacheNamespace+id, bkllb.CacheMountShared))
}

// goCommandEnv is the environment of every go command of a spec whose go
// settings are rendered: the module settings, the spec's env and extra,
// sorted so that the definition does not depend on map order.
func goCommandEnv(s *spec.Spec, extra map[string]string) []bkllb.RunOption {
	return envOptions(commandEnv(s, extra))
}

// commandEnv is goCommandEnv's environment as a map.
func commandEnv(s *spec.Spec, extra map[string]string) map[string]string {
	env := map[string]string{
		"GOMODCACHE": modCacheDir,
		"GOCACHE":    buildCache,
		// The toolchain is the builder image's; never download another one
		// behind the user's back.
		"GOTOOLCHAIN": "local",
	}
	for k, v := range s.ModuleSettings() {
		if v != "" {
			env[k] = v
		}
	}
	maps.Copy(env, s.Env)
	maps.Copy(env, extra)
	return env
}

// envOptions sets env, sorted so that the definition does not depend on
// map order.
func envOptions(env map[string]string) []bkllb.RunOption {
	var opts []bkllb.RunOption
	for _, k := range slices.Sorted(maps.Keys(env)) {
		opts = append(opts, bkllb.AddEnv(k, env[k]))
	}
	return opts
}
