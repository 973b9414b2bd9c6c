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
)

const (
	// GovulncheckVersion is the govulncheck the vuln target builds with
	// the builder's go from the module proxy: pinned, so that the same
	// spec checks the same way until the pin moves.
	GovulncheckVersion = "v1.9.0"
	govulncheckModule  = "golang.org/x/vuln/cmd/govulncheck"
	// DefaultVulnDB is Go's public vulnerability database.
	DefaultVulnDB = "https://vuln.go.dev"
	// VulnReport is the vuln target's output: govulncheck's report.
	VulnReport = "govulncheck.txt"
	toolsDir   = "/gobuild/tools"
)

// Vuln runs govulncheck over the binaries' packages (source analysis, on
// the build platform, with each binary's tags) against the vulnerability
// database at opt.VulnDB. It fails when the code calls a vulnerable
// function, with the vulnerability IDs, the modules and the call paths;
// a vulnerable module whose vulnerable code is not reached is a note in
// the report. The state's output is the report.
func Vuln(s *spec.Spec, opt Options) (bkllb.State, error) {
	if !s.Filled() {
		return bkllb.State{}, spec.ErrNotFilled
	}
	buildPlatform := platforms.Normalize(opt.BuildPlatform)
	rendered, err := s.Rendered(opt.templateData(buildPlatform), spec.PartGo)
	if err != nil {
		return bkllb.State{}, err
	}
	db := opt.VulnDB
	if db == "" {
		db = DefaultVulnDB
	}
	tool := govulncheck(rendered, opt)
	modules := download(rendered, opt)
	// One run per set of tags and cgo setting: each sees the files its
	// binaries are built from.
	type group struct {
		tags     []string
		cgo      bool
		packages []string
	}
	var groups []*group
	for _, b := range rendered.Binaries {
		i := slices.IndexFunc(groups, func(g *group) bool { return slices.Equal(g.tags, b.Tags) && g.cgo == b.Cgo })
		if i < 0 {
			groups = append(groups, &group{tags: b.Tags, cgo: b.Cgo})
			i = len(groups) - 1
		}
		if !slices.Contains(groups[i].packages, b.Package) {
			groups[i].packages = append(groups[i].packages, b.Package)
		}
	}
	reports := bkllb.Scratch()
	for i, g := range groups {
		args := []string{path.Join(toolsDir, "govulncheck"), "-db", db, "-show", "traces"}
		if len(g.tags) > 0 {
			args = append(args, "-tags", strings.Join(g.tags, ","))
		}
		args = append(args, g.packages...)
		cgo := "0"
		if g.cgo {
			cgo = "1"
		}
		env := commandEnv(rendered, map[string]string{"CGO_ENABLED": cgo})
		report := VulnReport
		if len(groups) > 1 {
			report = fmt.Sprintf("govulncheck-%d.txt", i+1)
		}
		// The helper keeps govulncheck's report as the output and passes
		// on its exit status: 3, a reachable vulnerability, fails the step.
		run := modules.root.Run(append([]bkllb.RunOption{
			bkllb.Args(append([]string{helperBinary, "report", path.Join(outDir, report), "--"}, args...)),
			bkllb.Dir(path.Join(srcDir, rendered.Module)),
			bkllb.AddMount(srcDir, opt.Context, bkllb.Readonly),
			bkllb.AddMount(toolsDir, tool, bkllb.Readonly),
			helperMount(opt),
			// govulncheck loads the packages as go vet does: kept apart
			// from the caches other projects read (llb/isolation.go).
			modules.untrusted,
			cacheMount(opt, buildCache, projectCacheID(rendered, opt, "test")),
			bkllb.WithCustomName(StepVuln(g.packages...)),
			location(rendered, opt, "binaries"),
		}, envOptions(env)...)...)
		out := run.AddMount(outDir, bkllb.Scratch())
		reports = reports.File(bkllb.Copy(out, report, report), bkllb.WithCustomName("[internal] collect "+report))
	}
	return reports, nil
}

// govulncheck is a state holding the pinned govulncheck.
func govulncheck(s *spec.Spec, opt Options) bkllb.State {
	return goInstall(s, opt, StepGovulncheck, outDir, map[string]string{"GOBIN": outDir}, govulncheckModule+"@"+GovulncheckVersion)
}

// goInstall runs go install args for a tool the frontend's targets run,
// with the builder's go, outside the module and with none of its flags,
// through the spec's module proxy (a mirror, for air-gapped builders).
// The tool gets a module cache and a build cache of its own (a tool's,
// never the user's code's, shared by the builds of a partition). extra
// adds to the environment; the state is the directory out.
func goInstall(s *spec.Spec, opt Options, name, out string, extra map[string]string, args ...string) bkllb.State {
	env := map[string]string{"CGO_ENABLED": "0", "GOFLAGS": "", "GOWORK": "off"}
	maps.Copy(env, extra)
	run := opt.Builder.Run(append([]bkllb.RunOption{
		bkllb.Args(append([]string{"go", "install"}, args...)),
		bkllb.Dir("/"),
		opt.credentials(),
		cacheMount(opt, modCacheDir, opt.sharedCacheID("gobuild-gomodcache-tools")),
		cacheMount(opt, buildCache, opt.sharedCacheID("gobuild-gocache-tools")),
		bkllb.WithCustomName(name),
	}, envOptions(commandEnv(s, env))...)...)
	return run.AddMount(out, bkllb.Scratch())
}
