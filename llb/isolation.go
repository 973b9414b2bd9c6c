package llb

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// Many projects share one BuildKit, and with it the persistent cache
// mounts. Go trusts an extracted module or a build cache entry once it is
// there, so a step that runs the user's code (go test, go vet, a cgo
// build) must never write a shared cache, and modules fetched with one
// build's credentials must never be served to another. So:
//   - the shared module cache is written by go mod download and read by
//     go build only, each in the build's partition of it: a name the
//     frontend asks the builder for, with the client's credentials
//     (Partition), and writes into the steps' definitions, so that BuildKit
//     never serves one partition's download or build to another;
//   - the user's code gets a copy of its own modules in a layer, and a
//     build cache of its own project.
//
// docs/design.md ("Shared builders") says what this costs.

// PartitionFile is where Partition's state holds the name.
const PartitionFile = "/name"

// SharedPartition is the partition of builds without credentials and with
// the default module settings; Options.ModulePartition's zero value.
const SharedPartition = "shared"

var validPartition = regexp.MustCompile(`^(shared|p-[0-9a-f]{32})$`)

// CheckPartition refuses a name the helper could not have written, since
// it becomes a path in the module cache.
func CheckPartition(name string) error {
	if !validPartition.MatchString(name) {
		return fmt.Errorf("module cache partition %q is not a name the helper writes", name)
	}
	return nil
}

// Partition is the state whose PartitionFile names this build's partition
// of the shared module cache, for the spec's module settings (rendered for
// the build platform) and the client's credentials. It runs on every build:
// BuildKit cannot know the credentials a client offers. It runs in the
// frontend image when that holds the helper, else on an empty root, so
// that it waits for no pull of the builder.
func Partition(s *spec.Spec, opt Options) (bkllb.State, error) {
	if !s.Filled() {
		return bkllb.State{}, spec.ErrNotFilled
	}
	env, err := partitionEnv(s, opt)
	if err != nil {
		return bkllb.State{}, err
	}
	const out = "/gobuild/partition"
	// The helper is static and reads only the environment and the
	// credentials: a root without files keeps a fresh builder from
	// pulling the builder image for it.
	root := bkllb.Scratch()
	if opt.PrebuiltHelper != nil {
		root = *opt.PrebuiltHelper
	}
	run := root.Run(append([]bkllb.RunOption{
		bkllb.Args(append([]string{helperBinary, "id", path.Join(out, PartitionFile)}, partitionSettings...)),
		clientCredentials(),
		helperMount(opt),
		bkllb.IgnoreCache,
		bkllb.WithCustomName(StepModcachePartition),
	}, envOptions(env)...)...)
	return run.AddMount(out, bkllb.Scratch()), nil
}

// partitionSettings are the go settings that decide what go fetches and
// how it checks it: any of them set puts a build in a partition of its
// own. The helper reads those it is given.
var partitionSettings = []string{"GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GONOSUMCHECK", "GOVCS", "GOAUTH"}

// partitionEnv is the go commands' environment the partition is named in:
// the spec's settings rendered for the build platform.
func partitionEnv(s *spec.Spec, opt Options) (map[string]string, error) {
	rendered, err := s.Rendered(opt.templateData(platforms.Normalize(opt.BuildPlatform)), spec.PartGo)
	if err != nil {
		return nil, err
	}
	return commandEnv(rendered, nil), nil
}

// SharedUnlessCredentials says the build is in the shared partition
// unless the client offers credentials: the spec (rendered as Partition
// renders it) sets none of the partition's settings.
func SharedUnlessCredentials(s *spec.Spec, opt Options) (bool, error) {
	if !s.Filled() {
		return false, spec.ErrNotFilled
	}
	env, err := partitionEnv(s, opt)
	if err != nil {
		return false, err
	}
	for _, k := range partitionSettings {
		if env[k] != "" {
			return false, nil
		}
	}
	return true, nil
}

// samePartitionSettings refuses a spec whose settings that choose the
// partition render otherwise for a target platform than for the build
// platform, for which Partition named it: an arm64 download would
// otherwise fetch with its own proxy or checksum database into the
// partition the build platform's settings chose, the shared one included.
func samePartitionSettings(s, rendered *spec.Spec, opt Options) error {
	forBuild, err := partitionEnv(s, opt)
	if err != nil {
		return err
	}
	forTarget := commandEnv(rendered, nil)
	for _, k := range partitionSettings {
		if forBuild[k] == forTarget[k] {
			continue
		}
		at := []any{"env", k}
		if _, ok := s.Env[k]; !ok {
			at = []any{strings.ToLower(k)}
		}
		return s.ErrorAt(at, "%s is %q for %s but %q for the build platform %s: what go fetches, and how it checks it, must not depend on the target platform; drop .Target from it",
			k, forTarget[k], platforms.Format(platforms.Normalize(opt.TargetPlatform)), forBuild[k], platforms.Format(platforms.Normalize(opt.BuildPlatform)))
	}
	return nil
}

// partitionName is the build's partition, SharedPartition by default.
func (opt Options) partitionName() string {
	if opt.ModulePartition == "" {
		return SharedPartition
	}
	return opt.ModulePartition
}

// sharedCacheID is the id of a cache shared between builds (base is
// gobuild-gomodcache or gobuild-gocache) for this build: its partition and
// its builder image are in it, so that a go command, or a builder image's
// own go, reaches only the caches of builds with the same credentials,
// module settings and toolchain.
func (opt Options) sharedCacheID(base string) string {
	return base + "-" + opt.partitionName() + "-" + opt.builderKey()
}

// builderKey tells builder images apart: a digest of the builder state's
// definition, which names the resolved image.
func (opt Options) builderKey() string {
	def, err := opt.Builder.Marshal(context.Background(), bkllb.Platform(opt.BuildPlatform))
	if err != nil || len(def.Def) == 0 {
		return "unknown"
	}
	sum := sha256.New()
	for _, op := range def.Def {
		sum.Write(op)
	}
	return hex.EncodeToString(sum.Sum(nil))[:16]
}

// projectCacheID is the build cache of the steps that run the project's
// code (kind "test" for go test and go vet, "cgo" for cgo builds): its
// own, so that what they write reaches no other project's build, and
// tests never write what a cgo build puts into an image.
func projectCacheID(s *spec.Spec, opt Options, kind string) string {
	sum := sha256.Sum256([]byte(opt.ModulePath + "\x00" + s.Module))
	return "gobuild-gocache-" + kind + "-" + hex.EncodeToString(sum[:8]) + "-" + opt.builderKey()
}
