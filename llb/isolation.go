package llb

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"path"

	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// Many projects share one BuildKit, and with it the persistent cache
// mounts. Go trusts an extracted module or a build cache entry once it is
// there, so a step that runs the user's code (go test, go vet, a cgo
// build) must never write a shared cache, and modules fetched with one
// build's credentials must never be served to another. So:
//   - the shared module cache is written by go mod download and read by
//     go build only, both run through the modcache helper, which puts each
//     build in a partition named for its credentials and module settings
//     (llb/helper/modcache.go); a step that mounts the partition's name
//     read-only is cached by its content, so a build with other
//     credentials never reuses another's download or go build;
//   - the user's code gets a copy of its own modules in a layer, and a
//     build cache of its own project.
//
// docs/design.md ("Shared builders") says what this costs.

//go:embed helper/modcache.go
var modcacheHelperSource []byte

const (
	helperDir     = "/gobuild/bin"
	helperPath    = helperDir + "/modcache"
	partitionDir  = "/gobuild/partition"
	partitionFile = partitionDir + "/name"
)

// modcacheHelper is the helper, built by the builder's go. It depends on
// the builder image alone, so BuildKit builds it once per builder.
func modcacheHelper(builder bkllb.State) bkllb.State {
	const src = "/gobuild/src"
	source := bkllb.Scratch().File(bkllb.Mkfile("/modcache.go", 0o644, modcacheHelperSource), bkllb.WithCustomName("[internal] module cache helper source"))
	run := builder.Run(
		bkllb.Args([]string{"go", "build", "-trimpath", "-o", helperPath, path.Join(src, "modcache.go")}),
		bkllb.Dir("/"),
		bkllb.AddEnv("CGO_ENABLED", "0"),
		bkllb.AddEnv("GOTOOLCHAIN", "local"),
		bkllb.AddEnv("GOFLAGS", ""),
		bkllb.AddEnv("GOWORK", "off"),
		bkllb.AddEnv("GOCACHE", "/tmp/gocache"),
		bkllb.AddMount("/tmp", bkllb.Scratch(), bkllb.Tmpfs()),
		bkllb.AddMount(src, source, bkllb.Readonly),
		bkllb.WithCustomName(StepModcacheHelper),
	)
	return run.AddMount(helperDir, bkllb.Scratch())
}

// partitionName runs on every build (BuildKit cannot know the client's
// credentials): the name of this build's partition of the module cache.
func partitionName(s *spec.Spec, opt Options, helper bkllb.State) bkllb.State {
	run := opt.Builder.Run(append([]bkllb.RunOption{
		bkllb.Args([]string{helperPath, "id", partitionFile}),
		credentials(),
		bkllb.AddMount(helperDir, helper, bkllb.Readonly),
		bkllb.IgnoreCache,
		bkllb.WithCustomName(StepModcachePartition),
	}, goCommandEnv(s, nil)...)...)
	return run.AddMount(partitionDir, bkllb.Scratch())
}

// projectCacheID is the build cache of the steps that run the project's
// code: its own, so that what they write reaches no other project's build.
func projectCacheID(s *spec.Spec, opt Options) string {
	sum := sha256.Sum256([]byte(opt.ModulePath + "\x00" + s.Module))
	return "gobuild-gocache-project-" + hex.EncodeToString(sum[:8])
}
