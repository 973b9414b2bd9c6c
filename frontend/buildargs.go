package frontend

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"time"

	gbllb "github.com/gobuildkit/gobuild/llb"
)

// Build-args the frontend reads itself; the spec's templates read any other
// through {{.Args.NAME}}.
const (
	argVersion         = "VERSION"
	argSourceDateEpoch = "SOURCE_DATE_EPOCH"
	// argModuleCache picks where modules are kept: "mount" (default) or
	// "layer", for ephemeral builders fed by a registry cache.
	argModuleCache = "GOBUILD_MODULE_CACHE"
	defaultVersion = "dev"
)

// buildArgs are the build-args the frontend reads, parsed.
type buildArgs struct {
	// epoch is SOURCE_DATE_EPOCH; nil when unset or empty.
	epoch *time.Time
	// version is VERSION, or defaultVersion when unset or empty; a build
	// of a git checkout replaces that default with the nearest tag.
	version string
	// explicitVersion is whether VERSION was given at all (even empty):
	// then the context's git history is not asked for a version.
	explicitVersion bool
	// moduleCache is GOBUILD_MODULE_CACHE, gbllb.ModuleCacheMount when
	// unset or empty.
	moduleCache gbllb.ModuleCache
}

// parseBuildArgs parses the build-args the frontend reads. It needs nothing
// but the client's options, so a bad value is reported before anything is
// read from the context. Every bad value is reported, not just the first.
func parseBuildArgs(args map[string]string) (buildArgs, error) {
	var (
		a    buildArgs
		errs []error
		err  error
	)
	if a.epoch, err = sourceDateEpoch(args); err != nil {
		errs = append(errs, err)
	}
	_, a.explicitVersion = args[argVersion]
	a.version = cmp.Or(args[argVersion], defaultVersion)
	switch mode := gbllb.ModuleCache(cmp.Or(args[argModuleCache], string(gbllb.ModuleCacheMount))); mode {
	case gbllb.ModuleCacheMount, gbllb.ModuleCacheLayer:
		a.moduleCache = mode
	default:
		errs = append(errs, fmt.Errorf("build-arg %s=%q: want %q (a persistent cache mount) or %q (a layer a registry cache carries)",
			argModuleCache, mode, gbllb.ModuleCacheMount, gbllb.ModuleCacheLayer))
	}
	return a, errors.Join(errs...)
}

func sourceDateEpoch(args map[string]string) (*time.Time, error) {
	v, ok := args[argSourceDateEpoch]
	if !ok || v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("build-arg %s=%q is not a number of seconds since 1970", argSourceDateEpoch, v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}
