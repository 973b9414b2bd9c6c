package llb

import (
	"path"
	"slices"
	"strings"

	"github.com/gobuildkit/gobuild/spec"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// A builder that starts empty and imports a registry cache finds every
// step up to go build in that cache, yet go build itself runs on the
// builder image, which the builder must then pull and unpack: in the
// benchmark, most of such a build. golang images are mostly what go build
// never reads (a Debian system, the distribution's tests, the sources of
// its own commands, tools such as vet). The toolchain layer is the rest: a
// step keyed on the builder image alone copies it out, --cache-to carries
// it, and a fresh builder pulls that layer instead of the image.
//
// go's action IDs hash only the files a package compiles from, at their
// paths, so the build cache entries made on the toolchain layer are the
// ones the whole builder makes, and either serves the other.

// DefaultGoroot is where golang images keep the Go distribution.
const DefaultGoroot = "/usr/local/go"

// goExcluded are the parts of a Go distribution the toolchain layer's
// root leaves out: the sources, which are layers of their own, and what
// go build reads for no package of a program (what tests, the
// distribution's own build and other go subcommands read).
var goExcluded = []string{
	"src", "api", "doc", "misc", "test", "bin/gofmt",
	"pkg/tool/*/vet", "pkg/tool/*/fix", "pkg/tool/*/doc", "pkg/tool/*/pprof", "pkg/tool/*/trace",
	"pkg/tool/*/objdump", "pkg/tool/*/addr2line", "pkg/tool/*/nm", "pkg/tool/*/test2json",
	"pkg/tool/*/covdata", "pkg/tool/*/dist", "pkg/tool/*/distpack",
	// Only builds with cgo, which run on the whole builder, run it.
	"pkg/tool/*/cgo",
}

// splitSources are the directories of the distribution's src that the
// toolchain layer keeps in a layer of their own, mounted on the rest: a
// fresh builder unpacks the two side by side, and most of its time there
// is making files (these hold about half of them).
var splitSources = []string{"internal", "runtime", "syscall", "vendor"}

// toolchainRoot is the root of the builder reduced to what a go build
// without cgo runs: the Go distribution at opt.Goroot without goExcluded,
// the CA bundle (a fresh builder's go build fetches the modules its cache
// lacks) and /tmp, with the builder's environment and working directory.
// A step that compiles mounts toolchainSources on it.
func toolchainRoot(opt Options) bkllb.State {
	// Mkdir drops the sticky bit, so /tmp is made aside and copied with
	// its mode, as in StaticBase.
	tmp := bkllb.Mkdir("/tmp", 0o755).WithState(bkllb.Scratch())
	fs := bkllb.Scratch().File(
		bkllb.Copy(opt.Builder, opt.Goroot, opt.Goroot, &bkllb.CopyInfo{
			CopyDirContentsOnly: true,
			CreateDestPath:      true,
			ExcludePatterns:     goExcluded,
		}).
			// A wildcard, so that a builder without the bundle (it fetches
			// nothing over TLS, or keeps it elsewhere) copies nothing.
			Copy(opt.Builder, path.Join(path.Dir(caBundle), "*.crt"), path.Dir(caBundle)+"/", &bkllb.CopyInfo{
				AllowWildcard:      true,
				AllowEmptyWildcard: true,
				CreateDestPath:     true,
			}).
			Copy(tmp, "/tmp", "/tmp", &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o1777}}),
		bkllb.WithCustomName(StepToolchain),
	)
	return opt.Builder.WithOutput(fs.Output())
}

// toolchainSources mounts the sources go build may read for a linux
// program at opt.Goroot's src, from two layers the helper's sources
// command copies out of the builder.
func toolchainSources(opt Options) bkllb.RunOption {
	const restDir, splitDir = "/gobuild/sources/rest", "/gobuild/sources/split"
	src := path.Join(opt.Goroot, "src")
	copied := opt.Builder.Run(
		bkllb.Args(append([]string{helperBinary, "sources", src, restDir, splitDir, strings.Join(otherSystems, ","), "--"}, splitSources...)),
		helperMount(opt),
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName(StepToolchainSources),
	)
	rest, split := copied.AddMount(restDir, bkllb.Scratch()), copied.AddMount(splitDir, bkllb.Scratch())
	// Read-only, so that no step changes what another reads; the split
	// directories are mounted on their empty places in the rest.
	mounts := runOptionList{bkllb.AddMount(src, rest, bkllb.Readonly, opt.keyedByStep())}
	for _, dir := range splitSources {
		mounts = append(mounts, bkllb.AddMount(path.Join(src, dir), split, bkllb.SourcePath("/"+dir), bkllb.Readonly, opt.keyedByStep()))
	}
	return mounts
}

// otherSystems are the operating systems go/build knows besides linux,
// the only one gobuild builds for: the toolchain layer leaves out the
// sources whose names tie them to one of these.
var otherSystems = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"}

// compilesOnToolchain reports whether go compiles b's packages (go build
// or its dependency step) with env on the toolchain layer: as
// onToolchain says, and with no build tag named after another operating
// system, which makes go compile that system's files too (the spec's
// flags and goflags cannot set tags).
func (opt Options) compilesOnToolchain(b spec.Binary, env map[string]string) bool {
	return opt.onToolchain(env) && !slices.ContainsFunc(b.Tags, func(tag string) bool { return slices.Contains(otherSystems, tag) })
}

// onToolchain reports whether a go command with env that may fetch
// modules (go build, go mod download, the modules' dependency step) runs
// on the toolchain layer: only when the build takes it (toolchainLayered),
// cgo is off (the C toolchain is the image's), and go fetches modules only
// through a proxy (a direct fetch runs git).
func (opt Options) onToolchain(env map[string]string) bool {
	if !opt.toolchainLayered() || env["CGO_ENABLED"] == "1" {
		return false
	}
	proxy, _, _ := strings.Cut(env["GOPROXY"], ",")
	proxy, _, _ = strings.Cut(proxy, "|")
	return env["GOPRIVATE"] == "" && env["GONOPROXY"] == "" && proxy != "direct"
}

// toolchainLayered reports whether the build takes the toolchain layer:
// the client imports caches (a builder that lives on has the image
// unpacked already) and keeps the dependency layers, and the frontend
// found where the builder's distribution is.
func (opt Options) toolchainLayered() bool {
	return opt.CacheImported && opt.DependencyCache != DependencyCacheMount && opt.Goroot != ""
}
