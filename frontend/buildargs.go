package frontend

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	argVulnDB          = "GOVULNDB"
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
	// dependencyCache is GOBUILD_DEPENDENCY_CACHE, gbllb.DependencyCacheAuto
	// when unset or empty.
	dependencyCache gbllb.DependencyCache
	// vulnDB is GOVULNDB, the vuln target's database.
	vulnDB string
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
	choiceArg(argModuleCache, "where modules are kept", []choice{
		{string(gbllb.ModuleCacheMount), "a persistent cache mount", ""},
		{string(gbllb.ModuleCacheLayer), "a layer a registry cache carries", ", for ephemeral builders"},
	}, func(a *buildArgs, v string) { a.moduleCache = gbllb.ModuleCache(v) }),
	choiceArg(argDependencyCache, "which compiled dependencies travel in layers a registry cache carries", []choice{
		{string(gbllb.DependencyCacheAuto), "the standard library's and the modules' when the build imports a cache", ", as a builder fed by --cache-from may have started empty; none otherwise"},
		{string(gbllb.DependencyCacheLayer), "both always", ""},
		{string(gbllb.DependencyCacheMount), "none: the builder's cache mount only", ", and every step on the whole builder image, not on the toolchain layer a build that imports a cache otherwise takes from it"},
	}, func(a *buildArgs, v string) { a.dependencyCache = gbllb.DependencyCache(v) }),
	{
		name:        argVulnDB,
		description: "the vulnerability database the vuln target reads: an https:// or http:// URL, such as a mirror on an air-gapped builder's network",
		value:       gbllb.DefaultVulnDB,
		parse: func(a *buildArgs, v string, _ bool) error {
			a.vulnDB = cmp.Or(v, gbllb.DefaultVulnDB)
			return checkVulnDB(a.vulnDB)
		},
	},
}

// checkVulnDB refuses a database govulncheck cannot read, and one whose
// URL holds credentials, which would reach the step's definition.
func checkVulnDB(db string) error {
	u, err := url.Parse(db)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("build-arg %s=%q: want the https:// or http:// URL of a Go vulnerability database, such as %s", argVulnDB, db, gbllb.DefaultVulnDB)
	case u.User != nil:
		return fmt.Errorf("build-arg %s: the URL carries credentials, which would reach the build's definition and provenance; serve the database without them (a mirror on the builder's network)", argVulnDB)
	}
	return nil
}

// choice is one value of a choiceArg: what it means, and what more
// --call=outline says of it.
type choice struct{ value, meaning, more string }

// choiceArg is a build-arg that takes one of a few values, the first by
// default (unset or empty).
func choiceArg(name, what string, choices []choice, set func(*buildArgs, string)) buildArg {
	var described, wanted []string
	for _, c := range choices {
		described = append(described, fmt.Sprintf("%q (%s%s)", c.value, c.meaning, c.more))
		wanted = append(wanted, fmt.Sprintf("%q (%s)", c.value, c.meaning))
	}
	return buildArg{
		name:        name,
		description: what + ": " + orList(described),
		value:       choices[0].value,
		parse: func(a *buildArgs, v string, _ bool) error {
			v = cmp.Or(v, choices[0].value)
			if !slices.ContainsFunc(choices, func(c choice) bool { return c.value == v }) {
				return fmt.Errorf("build-arg %s=%q: want %s", name, v, orList(wanted))
			}
			set(a, v)
			return nil
		},
	}
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
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
