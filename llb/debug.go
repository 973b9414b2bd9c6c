package llb

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	delveModule = "github.com/go-delve/delve/cmd/dlv"
	// DelvePath is where the debug image holds delve.
	DelvePath = spec.BinDir + "/dlv"
	// DebugLabel marks a debug image.
	DebugLabel = "com.github.gobuildkit.gobuild.debug"
)

// delveArches are the architectures delve debugs on Linux.
var delveArches = []string{"amd64", "arm64", "386", "ppc64le"}

// Debug builds the debug image for one target platform: the image
// target's, with the binaries built for a debugger (spec.ForDebugging),
// delve built for the platform by the builder's go, the entrypoint run by
// delve's headless server on debug.listen (exposed), and DebugLabel.
func Debug(ctx context.Context, s *spec.Spec, opt Options) (*Result, error) {
	if !s.Filled() {
		return nil, spec.ErrNotFilled
	}
	target := platforms.Normalize(opt.TargetPlatform)
	if !slices.Contains(delveArches, target.Architecture) {
		return nil, s.ErrorAt([]any{"debug"}, "the debug target builds for %s, which delve does not debug; build it for one of linux/amd64, linux/arm64, linux/386 or linux/ppc64le", platforms.Format(target))
	}
	for i, b := range s.Binaries {
		if path.Join(spec.BinDir, b.Name) == DelvePath {
			return nil, s.ErrorAt([]any{"binaries", i}, "binaries[%d] is named dlv, which is where the debug image puts delve; give it another name", i)
		}
	}
	if len(s.Image.Entrypoint) == 0 {
		return nil, s.ErrorAt([]any{"image"}, "the debug image runs the entrypoint under delve, and image.entrypoint is empty; set it")
	}
	res, err := Convert(ctx, s.ForDebugging(), opt)
	if err != nil {
		return nil, err
	}
	delve, err := delveFor(s, opt, target)
	if err != nil {
		return nil, err
	}
	res.State = bkllb.Merge([]bkllb.State{res.State, delve}, bkllb.WithCustomName("add delve ("+platforms.Format(target)+")"))
	res.Binaries = append(res.Binaries, DelvePath)

	img := *res.Image
	cfg := &img.Config
	cfg.Entrypoint = debugEntrypoint(s)
	port := strconv.Itoa(s.DebugPort()) + "/tcp"
	cfg.ExposedPorts = maps.Clone(cfg.ExposedPorts)
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	cfg.ExposedPorts[port] = struct{}{}
	cfg.Labels = maps.Clone(cfg.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[DebugLabel] = "true"
	res.Image = &img
	return res, nil
}

// debugEntrypoint runs the image's entrypoint under delve's headless
// server; the image's cmd (or docker run's arguments) follow the "--", as
// arguments of the program. Delve by default refuses a loopback client of
// another user, which is every client that comes through kubectl
// port-forward (the runtime's, in the pod's network namespace): in a
// container, the container is the boundary.
func debugEntrypoint(s *spec.Spec) []string {
	args := []string{DelvePath, "exec", "--headless", "--listen=" + s.Debug.Listen, "--api-version=2", "--accept-multiclient", "--only-same-user=false"}
	if *s.Debug.Continue {
		args = append(args, "--continue")
	}
	entry := s.Image.Entrypoint
	return append(append(args, entry[0], "--"), entry[1:]...)
}

// delveFor is a layer holding delve, at DelvePath, built for target by the
// builder's go from the spec's module proxy, into tool caches of the
// build's partition.
func delveFor(s *spec.Spec, opt Options, target ocispecs.Platform) (bkllb.State, error) {
	rendered, err := s.Rendered(opt.templateData(platforms.Normalize(opt.BuildPlatform)), spec.PartGo)
	if err != nil {
		return bkllb.State{}, err
	}
	goEnv, err := spec.GoEnv(target.Architecture, target.Variant)
	if err != nil {
		return bkllb.State{}, err
	}
	// go install puts a cross-compiled program in GOPATH/bin/GOOS_GOARCH
	// (it refuses a GOBIN for one).
	const gopath = "/gobuild/gopath"
	built := path.Join(gopath, "bin", "dlv")
	if build := platforms.Normalize(opt.BuildPlatform); build.Architecture != target.Architecture || build.OS != target.OS {
		built = path.Join(gopath, "bin", target.OS+"_"+goEnv["GOARCH"], "dlv")
	}
	extra := map[string]string{"GOPATH": gopath, "GOOS": target.OS}
	maps.Copy(extra, goEnv)
	out := goInstall(rendered, opt, StepDelve(platforms.Format(target), s.Debug.Delve), gopath, extra, "-trimpath", delveModule+"@"+s.Debug.Delve)
	fa := bkllb.Mkdir(spec.BinDir, 0o755, bkllb.WithParents(true)).
		Copy(out, path.Join("/", built[len(gopath):]), DelvePath)
	return stamped(fa, opt.epoch(), fmt.Sprintf("copy delve (%s)", platforms.Format(target))), nil
}
