package llb

import (
	"maps"
	"path"
	"strings"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// Test runs go test on the build platform with the spec's test settings.
// The state's output is empty: solving it is what runs the tests.
func Test(s *spec.Spec, opt Options) (bkllb.State, error) {
	return goCheck(s, opt, "test", s.Test.Flags, s.Test.Cgo)
}

// Vet runs go vet on the packages the tests cover.
func Vet(s *spec.Spec, opt Options) (bkllb.State, error) {
	return goCheck(s, opt, "vet", nil, false)
}

// goCheck runs go test or go vet (command) on the test packages, on the
// build platform, after the module download.
func goCheck(s *spec.Spec, opt Options, command string, flags []string, cgo bool) (bkllb.State, error) {
	if !s.Filled() {
		return bkllb.State{}, spec.ErrNotFilled
	}
	buildPlatform := platforms.Normalize(opt.BuildPlatform)
	s, err := s.Rendered(opt.templateData(buildPlatform), spec.PartGo, spec.PartTest)
	if err != nil {
		return bkllb.State{}, err
	}
	t := s.Test
	args := []string{"go", command}
	if len(t.Tags) > 0 {
		args = append(args, "-tags", strings.Join(t.Tags, ","))
	}
	args = append(args, flags...)
	args = append(args, t.Packages...)
	cgoEnabled := "0"
	if cgo {
		cgoEnabled = "1"
	}
	extra := map[string]string{"CGO_ENABLED": cgoEnabled}
	maps.Copy(extra, t.Env)
	env := commandEnv(s, extra)
	if err := checkCommandLine(s, "go "+command, args, env, envValues(s, env, []any{"test", "env"}, []any{"env"}), []any{"test"}); err != nil {
		return bkllb.State{}, err
	}
	modules := download(s, opt)
	runOpts := []bkllb.RunOption{
		bkllb.Args(args),
		bkllb.Dir(path.Join(srcDir, s.Module)),
		// Writable, as tests may write next to their sources; the writes
		// are thrown away.
		bkllb.AddMount(srcDir, opt.Context),
		// The tests are the user's code; go vet too is kept apart: neither
		// writes a cache another project reads (llb/isolation.go).
		modules.untrusted,
		cacheMount(opt, buildCache, projectCacheID(s, opt, "test")),
		bkllb.WithCustomName(stepGoCheck(command, platforms.Format(buildPlatform), t.Packages...)),
		location(s, opt, "test"),
	}
	run := modules.root.Run(append(runOpts, envOptions(env)...)...)
	return run.AddMount(outDir, bkllb.Scratch()), nil
}
