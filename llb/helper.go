package llb

import (
	"embed"
	"path"
	"strings"

	bkllb "github.com/moby/buildkit/client/llb"
)

// helperSources are the frontend's own program in the builder
// (llb/helper): the module cache partition's name, the dependency
// layers' export and seed, and the toolchain layer's sources.
//
//go:embed helper/main.go helper/modcache.go helper/gocache.go helper/goroot.go
var helperSources embed.FS

const (
	helperDir    = "/gobuild/bin"
	helperBinary = helperDir + "/gobuild-helper"
	// PrebuiltHelperDir is where the frontend image holds the helper,
	// built for the image's own platform, named as helperBinary is.
	PrebuiltHelperDir = "/lib/gobuild"
	// HelperMinimumGo is the oldest Go that compiles the helper (its
	// sources use the slices package): a builder older than that needs
	// the frontend image's prebuilt helper.
	HelperMinimumGo = "1.21"
)

// helperMount mounts the helper at helperDir: the frontend image's, which
// costs no step, or else the one the builder's go compiles. A step's cache
// key holds the helper's content, not where it came from (BuildKit hashes
// a read-only mount's files), so the same helper from another frontend
// release, or from a registry cache, still hits.
func helperMount(opt Options) bkllb.RunOption {
	if opt.PrebuiltHelper != nil {
		return bkllb.AddMount(helperDir, *opt.PrebuiltHelper, bkllb.SourcePath(PrebuiltHelperDir), bkllb.Readonly)
	}
	return bkllb.AddMount(helperDir, helperProgram(opt.Builder), bkllb.Readonly)
}

// HelperSourceFiles are the helper's files in llb/helper, embedded above.
var HelperSourceFiles = []string{"main.go", "modcache.go", "gocache.go", "goroot.go"}

// helperProgram is the helper, built by the builder's go into helperDir.
// It depends on the builder image alone, so BuildKit builds it once per
// builder, and a registry cache carries it.
func helperProgram(builder bkllb.State) bkllb.State {
	var files []helperFile
	for _, name := range HelperSourceFiles {
		source, err := helperSources.ReadFile("helper/" + name)
		if err != nil {
			panic(err) // embedded above
		}
		files = append(files, helperFile{name, source})
	}
	return builderGo(builder, StepHelper, files, helperDir, func(programs []string) []string {
		return append([]string{"go", "build", "-trimpath", "-o", helperBinary}, programs...)
	})
}

// helperFile is one source file of a program builderGo runs.
type helperFile struct {
	name   string
	source []byte
}

// builderGo runs one of the frontend's own Go programs (llb/helper) with
// the builder's go, outside any module and with nothing of the user's
// configuration, and returns the directory out it writes. args gets the
// program's files' paths.
func builderGo(builder bkllb.State, step string, files []helperFile, out string, args func(programs []string) []string) bkllb.State {
	const src = "/gobuild/src"
	// One file op for all the files: each op is a step whose cache every
	// build checks.
	var write *bkllb.FileAction
	var names, paths []string
	for _, f := range files {
		if write == nil {
			write = bkllb.Mkfile("/"+f.name, 0o644, f.source)
		} else {
			write = write.Mkfile("/"+f.name, 0o644, f.source)
		}
		names = append(names, f.name)
		paths = append(paths, path.Join(src, f.name))
	}
	program := bkllb.Scratch()
	if write != nil {
		program = program.File(write, bkllb.WithCustomName("[internal] "+strings.Join(names, ", ")))
	}
	run := builder.Run(
		bkllb.Args(args(paths)),
		bkllb.Dir("/"),
		bkllb.AddEnv("CGO_ENABLED", "0"),
		bkllb.AddEnv("GOTOOLCHAIN", "local"),
		bkllb.AddEnv("GOFLAGS", ""),
		bkllb.AddEnv("GOWORK", "off"),
		bkllb.AddEnv("GOCACHE", "/tmp/gocache"),
		bkllb.AddMount("/tmp", bkllb.Scratch(), bkllb.Tmpfs()),
		bkllb.AddMount(src, program, bkllb.Readonly),
		bkllb.WithCustomName(step),
	)
	return run.AddMount(out, bkllb.Scratch())
}
