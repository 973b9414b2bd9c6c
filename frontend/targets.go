package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"

	"github.com/containerd/platforms"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// target is one --target: its name, what --call=targets says of it and the
// function that builds it, registered together so that a target cannot be
// listed without being built or built without being listed.
type target struct {
	name        string
	description string
	build       func(*builder, context.Context) (*client.Result, error)
	// checkTemplates renders what build will render, to report every
	// template mistake with the package errors, in one round; nil when the
	// target renders none.
	checkTemplates func(*builder) error
	// usesModules: the target runs go commands that need the module
	// cache, and so its partition.
	usesModules bool
	// startsShared: the target may start in the shared partition before
	// the partition's name comes back (partition.go); not the checks,
	// whose tests or tools a build with credentials would run twice.
	startsShared bool
}

// targetTable is every target, the default first. Build dispatches through
// it, --call=targets and the reference docs (Targets) list it.
var targetTable = []target{
	{"image", "the container image (default)", (*builder).buildImage, platformTemplates(true), true, true},
	{"debug", "the image with each binary built for a debugger and run by delve's headless server on debug.listen (default :2345)", (*builder).buildDebug, platformTemplates(true), true, true},
	{"binaries", "the binaries alone, as <os>_<arch>[_<variant>]/<name>, for --output type=local", (*builder).buildBinaries, platformTemplates(false), true, true},
	{"test", "go test on the build platform, with the spec's tags and env", checkTarget(gbllb.Test), testTemplates, true, false},
	{"vet", "go vet on the build platform", checkTarget(gbllb.Vet), testTemplates, true, false},
	{"vuln", "govulncheck " + gbllb.GovulncheckVersion + " over the binaries' packages against GOVULNDB: fails when the code calls a vulnerable function, with the IDs, modules and call paths; outputs the report", (*builder).buildVuln, nil, true, false},
	{"spec", "the spec with every default filled in, as gobuild.resolved.yaml", (*builder).buildResolvedSpec, nil, false, false},
}

// platformTemplates checks the templates every target platform renders;
// a mistake every platform makes is reported once.
func platformTemplates(image bool) func(*builder) error {
	return func(b *builder) error {
		var errs []error
		seen := map[string]bool{}
		for _, target := range b.targetPlatforms() {
			for _, err := range unjoin(gbllb.CheckTemplates(b.spec, b.options(target), image)) {
				if !seen[err.Error()] {
					seen[err.Error()] = true
					errs = append(errs, err)
				}
			}
		}
		return errors.Join(errs...)
	}
}

func testTemplates(b *builder) error {
	return gbllb.CheckTestTemplates(b.spec, b.options(b.buildPlatform))
}

// unjoin lists the errors errors.Join joined, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TargetInfo names a target and says what it builds.
type TargetInfo struct{ Name, Description string }

// Targets lists the targets, the default first, for the generated docs.
func Targets() []TargetInfo {
	out := make([]TargetInfo, len(targetTable))
	for i, t := range targetTable {
		out[i] = TargetInfo{Name: t.name, Description: t.description}
	}
	return out
}

// ArgInfo is a build-arg the frontend reads, for the generated docs.
type ArgInfo struct{ Name, Default, Description string }

// BuildArgs lists the build-args the frontend reads, for the generated docs.
func BuildArgs() []ArgInfo {
	out := make([]ArgInfo, len(buildArgTable))
	for i, a := range buildArgTable {
		out[i] = ArgInfo{Name: a.name, Default: a.value, Description: a.description}
	}
	return out
}

// lookupTarget returns the target a client asked for by name; the empty
// name is the default.
func lookupTarget(name string) (target, error) {
	if name == "" {
		return targetTable[0], nil
	}
	names := make([]string, 0, len(targetTable))
	for _, t := range targetTable {
		if t.name == name {
			return t, nil
		}
		names = append(names, t.name)
	}
	return target{}, fmt.Errorf("unknown target %q; valid targets: %s", name, strings.Join(names, ", "))
}

// buildBinaries returns every platform's binaries as
// <os>_<arch>[_<variant>]/<name>, ready for --output type=local, with the
// platforms mapping BuildKit checks against the platforms asked for.
// Several platforms are a multi-platform result, one ref per platform: the
// local exporter puts each into its platform's directory. One platform is
// one tree with that directory in it, the same layout.
func (b *builder) buildBinaries(ctx context.Context) (*client.Result, error) {
	targets := slices.Clone(b.targetPlatforms())
	single := len(targets) == 1 && !b.bc.MultiPlatformRequested
	trees := make([]llb.State, len(targets))
	for i, target := range targets {
		targets[i] = platforms.Normalize(target)
		dir := "/"
		if single {
			dir += strings.ReplaceAll(platforms.Format(targets[i]), "/", "_")
		}
		st, err := b.binariesTree(targets[i], dir)
		if err != nil {
			return nil, err
		}
		trees[i] = st
	}
	// Side by side: a solve started before the partition's name runs to
	// its end before it returns (partition.go).
	refs, errs := make([]client.Reference, len(targets)), make([]error, len(targets))
	var wg sync.WaitGroup
	for i := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs[i], errs[i] = b.solve(ctx, trees[i], b.buildPlatform, false)
		}()
	}
	wg.Wait()
	res := client.NewResult()
	var exp exptypes.Platforms
	for i, target := range targets {
		if errs[i] != nil {
			return nil, errs[i]
		}
		id := platforms.FormatAll(target)
		if single {
			res.SetRef(refs[i])
		} else {
			res.AddRef(id, refs[i])
		}
		exp.Platforms = append(exp.Platforms, exptypes.Platform{ID: id, Platform: target})
	}
	dt, err := json.Marshal(exp)
	if err != nil {
		return nil, err
	}
	res.AddMeta(exptypes.ExporterPlatformsKey, dt)
	return res, nil
}

// binariesTree is one platform's binaries in dir of an empty tree.
func (b *builder) binariesTree(target ocispecs.Platform, dir string) (llb.State, error) {
	bins, err := gbllb.Binaries(b.spec, b.options(target))
	if err != nil {
		return llb.State{}, err
	}
	fa := llb.Mkdir("/", 0o755)
	for _, bin := range bins {
		fa = fa.Copy(bin.State, bin.File, path.Join(dir, bin.Name), &llb.CopyInfo{CreateDestPath: true})
	}
	return llb.Scratch().File(fa, llb.WithCustomName("collect binaries for "+platforms.Format(target))), nil
}

// checkTarget builds a target that runs a go command on the build platform
// (go test, go vet); a failure fails the build with the command's output.
func checkTarget(check func(*spec.Spec, gbllb.Options) (llb.State, error)) func(*builder, context.Context) (*client.Result, error) {
	return func(b *builder, ctx context.Context) (*client.Result, error) {
		st, err := check(b.spec, b.options(b.buildPlatform))
		if err != nil {
			return nil, err
		}
		return b.singleResult(ctx, st, true)
	}
}

// buildVuln runs the vuln target. govulncheck exits 3 when the code calls
// a vulnerable function: the error then says so and what to do, under
// the report the step printed.
func (b *builder) buildVuln(ctx context.Context) (*client.Result, error) {
	res, err := checkTarget(gbllb.Vuln)(b, ctx)
	var exit *gatewaypb.ExitError
	if errors.As(err, &exit) && exit.ExitCode == 3 {
		// A new error: one that wraps the step's would reach the client as
		// the step's own message (its gRPC status wins).
		return nil, fmt.Errorf("govulncheck: the code calls vulnerable functions (the report above lists each vulnerability, its module and the call paths); upgrade each module to the version its \"Fixed in\" line names (%v)", err)
	}
	return res, err
}

// buildResolvedSpec outputs the spec with its defaults filled in.
func (b *builder) buildResolvedSpec(ctx context.Context) (*client.Result, error) {
	data, err := b.spec.Resolved()
	if err != nil {
		return nil, err
	}
	st := llb.Scratch().File(llb.Mkfile("/gobuild.resolved.yaml", 0o644, data), llb.WithCustomName("write gobuild.resolved.yaml"))
	return b.singleResult(ctx, st, false)
}
