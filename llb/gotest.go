package llb

import (
	"fmt"
	"path"
	"strings"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// Test runs go test on the build platform with the spec's test settings.
// The state's output is empty: solving it is what runs the tests.
func Test(s *spec.Spec, opt Options) (bkllb.State, error) {
	t := s.Test
	args := []string{"go", "test"}
	if len(t.Tags) > 0 {
		args = append(args, "-tags", strings.Join(t.Tags, ","))
	}
	args = append(args, t.Flags...)
	args = append(args, t.Packages...)
	cgo := "0"
	if t.Cgo {
		cgo = "1"
	}
	return check(s, opt, args, map[string]string{"CGO_ENABLED": cgo}, t.Env, "test", fmt.Sprintf("go test %s", strings.Join(t.Packages, " ")))
}

// Vet runs go vet on the packages the tests cover.
func Vet(s *spec.Spec, opt Options) (bkllb.State, error) {
	args := []string{"go", "vet"}
	if len(s.Test.Tags) > 0 {
		args = append(args, "-tags", strings.Join(s.Test.Tags, ","))
	}
	args = append(args, s.Test.Packages...)
	return check(s, opt, args, map[string]string{"CGO_ENABLED": "0"}, s.Test.Env, "test", fmt.Sprintf("go vet %s", strings.Join(s.Test.Packages, " ")))
}

func check(s *spec.Spec, opt Options, args []string, base, own map[string]string, at, name string) (bkllb.State, error) {
	build := platforms.Normalize(opt.BuildPlatform)
	data := opt.templateData(build)
	downloaded, modules, err := download(s, opt, data)
	if err != nil {
		return bkllb.State{}, err
	}
	env, err := goCommandEnv(s, data, mergeEnv(base, own), at, "env")
	if err != nil {
		return bkllb.State{}, err
	}
	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		bkllb.Dir(path.Join(srcDir, s.Module)),
		// Writable, as tests may write next to their sources; the writes
		// are thrown away.
		bkllb.AddMount(srcDir, opt.Context),
		modules,
		cacheMount(opt, buildCache, "gobuild-gocache"),
		bkllb.WithCustomName(name + " (" + platforms.Format(build) + ")"),
		location(s, opt, at),
	}
	run := downloaded.Run(append(runOpts, env...)...)
	return run.AddMount(outDir, bkllb.Scratch()), nil
}
