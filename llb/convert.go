// Package llb translates a validated spec into BuildKit LLB states. It does
// no IO: images and contexts arrive as states through Options, so the same
// spec and options always give the same definition.
package llb

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Paths inside the builder. The caches use Go's own defaults so that the
// same cache mount ids serve hand-written Dockerfiles too.
const (
	srcDir      = "/src"
	outDir      = "/out"
	modCacheDir = "/go/pkg/mod"
	buildCache  = "/root/.cache/go-build"
	// builderGoroot is where golang images keep the distribution; the
	// static base takes its time zone database from there.
	builderGoroot = "/usr/local/go"
	caBundle      = "/etc/ssl/certs/ca-certificates.crt"
	// ZoneinfoPath is where the static base puts Go's time zone database;
	// the image's ZONEINFO variable points Go programs at it.
	ZoneinfoPath = "/usr/share/zoneinfo.zip"
)

// Options carries everything Convert needs from outside the spec.
type Options struct {
	// BuildPlatform is where the toolchain runs.
	BuildPlatform ocispecs.Platform
	// TargetPlatform is the platform of the image being built.
	TargetPlatform ocispecs.Platform
	// Context is the main build context, .dockerignore applied.
	Context bkllb.State
	// Builder is the toolchain image for BuildPlatform, its config applied.
	Builder bkllb.State
	// Base and BaseImage are the base image and its config when the base
	// for TargetPlatform is an image reference.
	Base      *bkllb.State
	BaseImage *dockerspec.DockerOCIImage
	// Version, Commit and Args fill the templates.
	Version string
	Commit  string
	Args    map[string]string
	// Source is the repository the context came from (buildx's vcs:source),
	// for the org.opencontainers.image.source label.
	Source string
	// Epoch stamps every file and the image config. Nil means the Unix
	// epoch, so that images are reproducible by default.
	Epoch *time.Time
	// CommitTime is when the context's commit was made, if known: {{.Date}}
	// without SOURCE_DATE_EPOCH.
	CommitTime *time.Time
	// CacheNamespace prefixes cache mount ids (BUILDKIT_CACHE_MOUNT_NS).
	CacheNamespace string
	// SourceMap, when set, ties steps to the spec lines that caused them.
	SourceMap *bkllb.SourceMap
	// ModuleCache is where downloaded modules live between builds.
	ModuleCache ModuleCache
	// Sources, when set, narrows what go build sees of Context to the
	// files the go command reads. Nil gives it the whole context.
	Sources *SourceSet
}

// ModuleCache says how the module cache reaches go build.
type ModuleCache string

const (
	// ModuleCacheMount keeps modules in a persistent cache mount: on a
	// builder that lives on, a go.mod change downloads only the new
	// modules. Cache mounts are not exported with --cache-to.
	ModuleCacheMount ModuleCache = "mount"
	// ModuleCacheLayer downloads into a layer keyed on go.mod and go.sum,
	// which --cache-to type=registry,mode=max exports: an ephemeral CI
	// builder gets every module from the registry cache instead of the
	// network, but a go.mod change downloads them all again.
	ModuleCacheLayer ModuleCache = "layer"
)

// SourceSet describes the files of the context a go build reads beyond
// Go's own source file types.
type SourceSet struct {
	// Embeds are the //go:embed patterns, relative to the context root.
	Embeds []string
}

func (opt Options) epoch() time.Time {
	if opt.Epoch != nil {
		return opt.Epoch.UTC()
	}
	return time.Unix(0, 0).UTC()
}

// date is the build's date for templates and labels: SOURCE_DATE_EPOCH,
// else the commit time, else the Unix epoch; never the wall clock.
func (opt Options) date() time.Time {
	if opt.Epoch == nil && opt.CommitTime != nil {
		return opt.CommitTime.UTC()
	}
	return opt.epoch()
}

// templateData is what the spec's templates see for one target platform.
func (opt Options) templateData(target ocispecs.Platform) spec.TemplateData {
	short := opt.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	return spec.TemplateData{
		Version:     opt.Version,
		Commit:      opt.Commit,
		ShortCommit: short,
		Date:        opt.date().Format(time.RFC3339),
		Args:        opt.Args,
		Target:      spec.Target{OS: target.OS, Arch: target.Architecture, Variant: target.Variant},
	}
}

// Result is one platform's image.
type Result struct {
	State bkllb.State
	Image *dockerspec.DockerOCIImage
	// Annotations go on the platform's manifest.
	Annotations map[string]string
}

// Convert builds the LLB for one target platform: the module download, a
// cross-compiling go build per binary on the build platform, and the image.
func Convert(ctx context.Context, s *spec.Spec, opt Options) (*Result, error) {
	target := platforms.Normalize(opt.TargetPlatform)
	bins, err := Binaries(s, opt)
	if err != nil {
		return nil, err
	}
	data := opt.templateData(target)
	epoch := opt.epoch()

	var layers []bkllb.State
	switch base := s.BaseFor(target); base {
	case spec.BaseStatic:
		layers = append(layers, StaticBase(opt.Builder, epoch, spec.BoolValue(s.Image.Cacerts, true), spec.BoolValue(s.Image.Tzdata, true)))
	case spec.BaseScratch:
	default:
		if opt.Base == nil {
			return nil, fmt.Errorf("base image %q for %s was not resolved", base, platforms.Format(target))
		}
		layers = append(layers, *opt.Base)
	}
	layers = append(layers, binariesLayer(bins, epoch, target))
	if len(s.Image.Files) > 0 {
		files, err := filesLayer(s, opt.Context, epoch)
		if err != nil {
			return nil, err
		}
		layers = append(layers, files)
	}
	st := layers[0]
	if len(layers) > 1 {
		// A merge keeps each layer byte-identical across images and
		// platforms, so registries and caches store the base once.
		st = bkllb.Merge(layers, bkllb.WithCustomName("assemble image ("+platforms.Format(target)+")"))
	}
	img, err := imageConfig(s, opt, target, data, bins)
	if err != nil {
		return nil, err
	}
	annotations, err := renderMap(s, data, s.Image.Annotations, "image", "annotations")
	if err != nil {
		return nil, err
	}
	return &Result{State: st, Image: img, Annotations: annotations}, nil
}

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
	target := platforms.Normalize(opt.TargetPlatform)
	goEnv, err := spec.GoEnv(target.Architecture, target.Variant)
	if err != nil {
		return nil, fmt.Errorf("platform %s: %w", platforms.Format(target), err)
	}
	data := opt.templateData(target)
	downloaded, modules, err := download(s, opt, data)
	if err != nil {
		return nil, err
	}
	var selected []int
	for i := range s.Binaries {
		if s.BinaryTargets(i, target) {
			selected = append(selected, i)
		}
	}
	if len(selected) == 0 {
		return nil, s.ErrorAt([]any{"binaries"}, "no binary is built for %s; widen a binary's platforms or drop the platform", platforms.Format(target))
	}
	groups, err := buildGroups(s, selected, target, data)
	if err != nil {
		return nil, err
	}
	bins := make([]Built, len(s.Binaries))
	for _, group := range groups {
		out, files, err := build(s, group, downloaded, modules, goEnv, target, data, opt)
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

// Where credentials for private modules appear in go commands. They are
// mounted, never copied: BuildKit keeps secrets and the SSH agent out of
// layers, cache keys and logs.
const (
	NetrcSecretID   = "netrc"
	netrcPath       = "/run/secrets/netrc"
	sshAgentPath    = "/run/buildkit/ssh_agent"
	knownHostsNoted = "StrictHostKeyChecking=accept-new"
)

// credentials mounts the client's "netrc" secret (--secret id=netrc,src=...)
// and its default SSH agent (--ssh default) when it offers them: go reads
// the first through NETRC for module proxies and HTTPS, git the second
// for ssh:// modules.
func credentials() bkllb.RunOption {
	return runOptions(
		bkllb.AddSecret(netrcPath, bkllb.SecretID(NetrcSecretID), bkllb.SecretOptional),
		bkllb.AddSSHSocket(bkllb.SSHID("default"), bkllb.SSHSocketTarget(sshAgentPath), bkllb.SSHOptional),
		bkllb.AddEnv("NETRC", netrcPath),
		bkllb.AddEnv("SSH_AUTH_SOCK", sshAgentPath),
		bkllb.AddEnv("GIT_SSH_COMMAND", "ssh -o "+knownHostsNoted),
	)
}

type runOptionList []bkllb.RunOption

func (l runOptionList) SetRunOption(ei *bkllb.ExecInfo) {
	for _, o := range l {
		o.SetRunOption(ei)
	}
}

func runOptions(opts ...bkllb.RunOption) bkllb.RunOption { return runOptionList(opts) }

// moduleFiles is what go mod download may see of the context: go.mod, go.sum
// and workspace files, so that a source change never invalidates it.
func moduleFiles(s *spec.Spec, opt Options) bkllb.State {
	return bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/"+s.Module+"/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     []string{"go.mod", "go.sum", "go.work", "go.work.sum", "**/go.mod", "**/go.sum"},
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName("[internal] copy go.mod and go.sum"),
	)
}

// goSourcePatterns are the files the go command may read when building
// a package: Go's source file types (go help filetype), module and
// workspace files, vendored code and profile-guided optimization profiles.
var goSourcePatterns = []string{
	"**/*.go", "**/*.s", "**/*.S", "**/*.sx", "**/*.syso",
	"**/*.c", "**/*.h", "**/*.cc", "**/*.cpp", "**/*.cxx", "**/*.hh", "**/*.hpp", "**/*.hxx",
	"**/*.m", "**/*.f", "**/*.F", "**/*.for", "**/*.f90", "**/*.swig", "**/*.swigcxx",
	"**/go.mod", "**/go.sum", "**/go.work", "**/go.work.sum", "**/vendor/**", "**/*.pgo",
}

// goSources is the context as go build sees it: with opt.Sources set,
// only the files it reads, copied into a tree of their own. BuildKit keys
// the build on that tree's content, so editing a README or any other file
// the build never reads leaves the build cached.
func goSources(s *spec.Spec, opt Options) bkllb.State {
	if opt.Sources == nil {
		return opt.Context
	}
	include := slices.Clone(goSourcePatterns)
	for _, e := range opt.Sources.Embeds {
		// A pattern naming a directory embeds the tree below it.
		include = append(include, e, e+"/**")
	}
	for _, b := range s.Binaries {
		if profile := pgoProfile(b.Flags); profile != "" {
			include = append(include, path.Join(s.Module, profile)) // relative to where go runs
		}
	}
	if s.UsesBuildvcs() {
		include = append(include, ".git/**")
	}
	return bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/", "/", &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			IncludePatterns:     include,
			AllowWildcard:       true,
			AllowEmptyWildcard:  true,
		}),
		bkllb.WithCustomName("[internal] select the files go build reads"),
	)
}

// pgoProfile is the file a -pgo flag names, if it names one.
func pgoProfile(flags []string) string {
	for i, f := range flags {
		v, ok := strings.CutPrefix(f, "-pgo=")
		if !ok && f == "-pgo" && i+1 < len(flags) {
			v, ok = flags[i+1], true
		}
		if ok && v != "auto" && v != "off" {
			return v
		}
	}
	return ""
}

// download fetches the module's dependencies. It returns the state the
// go commands run on and the mount that gives them the modules.
func download(s *spec.Spec, opt Options, data spec.TemplateData) (bkllb.State, bkllb.RunOption, error) {
	env, err := goCommandEnv(s, data, nil)
	if err != nil {
		return bkllb.State{}, nil, err
	}
	runOpts := []bkllb.RunOption{
		bkllb.Args([]string{"go", "mod", "download"}),
		credentials(),
		bkllb.Dir(srcDir),
		bkllb.AddMount(srcDir, moduleFiles(s, opt)),
		location(s, opt, "go"),
	}
	if opt.ModuleCache == ModuleCacheLayer {
		run := opt.Builder.Run(append(runOpts, append(env, bkllb.WithCustomName("go mod download (into a layer)"))...)...)
		modules := run.AddMount(modCacheDir, bkllb.Scratch())
		// Writable, so that go may take its locks; the writes are dropped.
		return opt.Builder, bkllb.AddMount(modCacheDir, modules), nil
	}
	modCache := cacheMount(opt, modCacheDir, "gobuild-gomodcache")
	run := opt.Builder.Run(append(runOpts, append(env, modCache, bkllb.WithCustomName("go mod download"))...)...)
	return run.Root(), modCache, nil
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

// build runs one go build for the binaries of group, which buildGroups
// made alike. It returns the output state and each binary's path in it.
func build(s *spec.Spec, group []int, root bkllb.State, modules bkllb.RunOption, goEnv map[string]string, target ocispecs.Platform, data spec.TemplateData, opt Options) (bkllb.State, []string, error) {
	i := group[0]
	b := s.Binaries[i]
	args, err := BuildArgs(s, i, data)
	if err != nil {
		return bkllb.State{}, nil, err
	}
	files := []string{"/" + b.Name}
	packages := []string{b.Package}
	if len(group) > 1 {
		// go build -o DIR/ names each executable after its package; the
		// image takes it from there under the binary's own name.
		args = append(args[:len(args)-2], outDir+"/")
		files = files[:0]
		packages = packages[:0]
		for _, j := range group {
			name, _ := execName(s.Binaries[j].Package)
			args = append(args, s.Binaries[j].Package)
			files = append(files, "/"+name)
			packages = append(packages, s.Binaries[j].Package)
		}
	}
	env := map[string]string{"CGO_ENABLED": "0", "GOOS": target.OS}
	if b.Cgo {
		build := platforms.Normalize(opt.BuildPlatform)
		if platforms.Format(build) != platforms.Format(target) {
			return bkllb.State{}, nil, s.ErrorAt([]any{"binaries", i, "cgo"},
				"binaries[%d] uses cgo, which builds only for the build platform %s, not %s; limit it with platforms: [%s] or drop cgo",
				i, platforms.Format(build), platforms.Format(target), platforms.Format(build))
		}
		env["CGO_ENABLED"] = "1"
	}
	maps.Copy(env, goEnv)
	buildEnv, err := goCommandEnv(s, data, mergeEnv(env, b.Env), "binaries", i, "env")
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
		modules,
		cacheMount(opt, buildCache, "gobuild-gocache"),
		bkllb.WithCustomName(fmt.Sprintf("go build %s (%s)", strings.Join(packages, " "), platforms.Format(target))),
		runOptions(where...),
	}
	run := root.Run(append(runOpts, buildEnv...)...)
	return run.AddMount(outDir, bkllb.Scratch()), files, nil
}

// mergeEnv returns base with the binary's own env on top; the binary's
// values are rendered later, where their positions are known.
func mergeEnv(base, own map[string]string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, own)
	return out
}

// binariesLayer holds every binary of the image in one layer, with fixed
// timestamps so that the layer digest depends on the binaries alone.
func binariesLayer(bins []Built, epoch time.Time, target ocispecs.Platform) bkllb.State {
	fa := bkllb.Mkdir(spec.BinDir, 0o755, bkllb.WithParents(true))
	for _, b := range bins {
		fa = fa.Copy(b.State, b.File, path.Join(spec.BinDir, b.Name))
	}
	return stamped(fa, epoch, "copy binaries ("+platforms.Format(target)+")")
}

// filesLayer copies image.files from the context, with their owners and
// modes, into a layer of their own.
func filesLayer(s *spec.Spec, context bkllb.State, epoch time.Time) (bkllb.State, error) {
	var fa *bkllb.FileAction
	for _, f := range s.Image.Files {
		uid, gid, err := spec.ParseOwner(f.Owner)
		if err != nil {
			return bkllb.State{}, err
		}
		mode, err := spec.ParseMode(f.Mode)
		if err != nil {
			return bkllb.State{}, err
		}
		info := &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			CreateDestPath:      true,
			ChownOpt:            &bkllb.ChownOpt{User: &bkllb.UserOpt{UID: uid}, Group: &bkllb.UserOpt{UID: gid}},
		}
		if mode >= 0 {
			info.Mode = &bkllb.ChmodOpt{Mode: fileMode(mode)}
		}
		src := path.Join("/", f.Src)
		if fa == nil {
			fa = bkllb.Copy(context, src, f.Dst, info)
		} else {
			fa = fa.Copy(context, src, f.Dst, info)
		}
	}
	return stamped(fa, epoch, "copy image.files"), nil
}

// stamped builds a tree with actions and copies it into a new layer with
// every timestamp set to the epoch. Stamping each action is not enough:
// creating a file updates its directory's mtime to the wall clock, and the
// copy fixes directories only after their contents. Both run in one file
// op, so the intermediate tree is never a step (or a snapshot) of its own.
func stamped(tree *bkllb.FileAction, epoch time.Time, name string) bkllb.State {
	return bkllb.Scratch().File(
		bkllb.Copy(tree.WithState(bkllb.Scratch()), "/", "/", &bkllb.CopyInfo{CopyDirContentsOnly: true, CreatedTime: &epoch}),
		bkllb.WithCustomName(name),
	)
}

// StaticBase is the default base layer: what a static Go program expects of
// a system (users, CA certificates, time zones, /tmp) and nothing else. It
// needs no image pull and is the same for every platform.
func StaticBase(builder bkllb.State, epoch time.Time, cacerts, tzdata bool) bkllb.State {
	// Mkdir drops the sticky bit, so /tmp is made aside (in the same file
	// op) and copied with an explicit mode.
	tmp := bkllb.Mkdir("/tmp", 0o755).WithState(bkllb.Scratch())
	parents := bkllb.WithParents(true)
	fa := bkllb.Mkdir("/etc", 0o755).
		Mkfile("/etc/passwd", 0o644, []byte(passwd)).
		Mkfile("/etc/group", 0o644, []byte(group))
	var parts []string
	if cacerts {
		fa = fa.Mkdir("/etc/ssl/certs", 0o755, parents).
			Copy(builder, caBundle, caBundle, &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o644}})
		parts = append(parts, "CA certificates")
	}
	if tzdata {
		fa = fa.Mkdir("/usr/share", 0o755, parents).
			Copy(builder, path.Join(builderGoroot, "lib/time/zoneinfo.zip"), ZoneinfoPath, &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o644}})
		parts = append(parts, "time zones")
	}
	fa = fa.Mkdir("/home/nonroot", 0o700, parents, bkllb.WithUIDGID(65532, 65532)).
		Copy(tmp, "/tmp", "/tmp", &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o1777}})
	return stamped(fa, epoch, "static base ("+strings.Join(append([]string{"passwd"}, parts...), ", ")+")")
}

const passwd = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`

const group = `root:x:0:
nobody:x:65534:
nonroot:x:65532:
`

// location ties a step to the spec entry that caused it, so a failing step
// shows the user its lines of gobuild.yaml.
func location(s *spec.Spec, opt Options, path ...any) bkllb.RunOption {
	if opt.SourceMap == nil {
		return bkllb.With() // nothing to point at
	}
	pos := s.Pos(path...)
	line := int32(pos.Line)
	return opt.SourceMap.Location([]*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}})
}
