package frontend

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"time"

	gbllb "github.com/gobuildkit/gobuild/llb"
)

// Build-args the frontend reads itself (buildArgTable says what each
// does); the spec's templates read any other through {{.Args.NAME}}.
const (
	argVersion         = "VERSION"
	argSourceDateEpoch = "SOURCE_DATE_EPOCH"
	argModuleCache     = "GOBUILD_MODULE_CACHE"
	argDependencyCache = "GOBUILD_DEPENDENCY_CACHE"
	defaultVersion     = "dev"
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
	// dependencyCache is GOBUILD_DEPENDENCY_CACHE, gbllb.DependencyCacheLayer
	// when unset or empty.
	dependencyCache gbllb.DependencyCache
}

// buildArg is one build-arg the frontend reads: what --call=outline says
// about it, and how it is parsed.
type buildArg struct {
	name        string
	description string
	// value is the default outline shows, empty when there is none.
	value string
	// parse reads the build-arg's value into a; set is whether the client
	// gave it at all.
	parse func(a *buildArgs, v string, set bool) error
}

// buildArgTable lists every build-arg the frontend reads: parseBuildArgs
// reads nothing else, and --call=outline lists them all.
var buildArgTable = []buildArg{
	{
		name:        argVersion,
		description: "the version in {{.Version}} and the org.opencontainers.image.version label; default: git describe --tags --always of the context's .git, else " + defaultVersion,
		value:       defaultVersion,
		parse: func(a *buildArgs, v string, set bool) error {
			a.explicitVersion = set
			a.version = cmp.Or(v, defaultVersion)
			return nil
		},
	},
	{
		name:        argSourceDateEpoch,
		description: "seconds since 1970 that date every file, the image config and {{.Date}}; default: the commit time of the context's .git HEAD, else 0",
		parse: func(a *buildArgs, v string, _ bool) (err error) {
			a.epoch, err = sourceDateEpoch(v)
			return err
		},
	},
	{
		name: argModuleCache,
		description: fmt.Sprintf("where modules are kept: %q (a persistent cache mount) or %q (a layer a registry cache carries, for ephemeral builders)",
			gbllb.ModuleCacheMount, gbllb.ModuleCacheLayer),
		value: string(gbllb.ModuleCacheMount),
		parse: func(a *buildArgs, v string, _ bool) error {
			switch mode := gbllb.ModuleCache(cmp.Or(v, string(gbllb.ModuleCacheMount))); mode {
			case gbllb.ModuleCacheMount, gbllb.ModuleCacheLayer:
				a.moduleCache = mode
				return nil
			default:
				return fmt.Errorf("build-arg %s=%q: want %q (a persistent cache mount) or %q (a layer a registry cache carries)",
					argModuleCache, mode, gbllb.ModuleCacheMount, gbllb.ModuleCacheLayer)
			}
		},
	},
	{
		name: argDependencyCache,
		description: fmt.Sprintf("where the compiled standard library and dependencies are kept: %q (also in a layer a registry cache carries, so an ephemeral builder compiles only the module's own packages) or %q (the builder's cache mount only)",
			gbllb.DependencyCacheLayer, gbllb.DependencyCacheMount),
		value: string(gbllb.DependencyCacheLayer),
		parse: func(a *buildArgs, v string, _ bool) error {
			switch mode := gbllb.DependencyCache(cmp.Or(v, string(gbllb.DependencyCacheLayer))); mode {
			case gbllb.DependencyCacheLayer, gbllb.DependencyCacheMount:
				a.dependencyCache = mode
				return nil
			default:
				return fmt.Errorf("build-arg %s=%q: want %q (a layer a registry cache carries) or %q (the builder's cache mount only)",
					argDependencyCache, mode, gbllb.DependencyCacheLayer, gbllb.DependencyCacheMount)
			}
		},
	},
}

// parseBuildArgs parses the build-args of buildArgTable. It needs nothing
// but the client's options, so a bad value is reported before anything is
// read from the context. Every bad value is reported, not just the first.
func parseBuildArgs(args map[string]string) (buildArgs, error) {
	var (
		a    buildArgs
		errs []error
	)
	for _, arg := range buildArgTable {
		v, set := args[arg.name]
		if err := arg.parse(&a, v, set); err != nil {
			errs = append(errs, err)
		}
	}
	return a, errors.Join(errs...)
}

// sourceDateEpoch parses SOURCE_DATE_EPOCH; nil when unset or empty.
func sourceDateEpoch(v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("build-arg %s=%q is not a number of seconds since 1970", argSourceDateEpoch, v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}
