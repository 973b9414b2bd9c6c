package frontend

import (
	"strings"
	"testing"
	"time"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/frontend/subrequests/outline"
)

func TestParseBuildArgs(t *testing.T) {
	epoch := time.Unix(1700000000, 0).UTC()
	const (
		badEpoch = `build-arg SOURCE_DATE_EPOCH="yesterday" is not a number of seconds since 1970`
		badCache = `build-arg GOBUILD_MODULE_CACHE="volume": want "mount" (a persistent cache mount) or "layer" (a layer a registry cache carries)`
	)
	defaults := buildArgs{version: "dev", moduleCache: gbllb.ModuleCacheMount, dependencyCache: gbllb.DependencyCacheAuto}
	cases := []struct {
		name string
		args map[string]string
		want buildArgs
		err  string
	}{
		{"nil", nil, defaults, ""},
		{"none", map[string]string{}, defaults, ""},
		{"others ignored", map[string]string{"PRIVATE_GOPROXY": "https://proxy.example"}, defaults, ""},
		{"epoch", map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, buildArgs{epoch: &epoch, version: "dev", moduleCache: "mount", dependencyCache: "auto"}, ""},
		{"empty epoch", map[string]string{"SOURCE_DATE_EPOCH": ""}, defaults, ""},
		{"epoch in words", map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, buildArgs{}, badEpoch},
		{"fractional epoch", map[string]string{"SOURCE_DATE_EPOCH": "1.5"}, buildArgs{},
			`build-arg SOURCE_DATE_EPOCH="1.5" is not a number of seconds since 1970`},
		{"version", map[string]string{"VERSION": "v1.2.3"}, buildArgs{version: "v1.2.3", explicitVersion: true, moduleCache: "mount", dependencyCache: "auto"}, ""},
		// An empty VERSION keeps the default but still stops git describe.
		{"empty version", map[string]string{"VERSION": ""}, buildArgs{version: "dev", explicitVersion: true, moduleCache: "mount", dependencyCache: "auto"}, ""},
		{"layer cache", map[string]string{"GOBUILD_MODULE_CACHE": "layer"}, buildArgs{version: "dev", moduleCache: gbllb.ModuleCacheLayer, dependencyCache: gbllb.DependencyCacheAuto}, ""},
		{"dependencies in the mount only", map[string]string{"GOBUILD_DEPENDENCY_CACHE": "mount"}, buildArgs{version: "dev", moduleCache: gbllb.ModuleCacheMount, dependencyCache: gbllb.DependencyCacheMount}, ""},
		{"dependencies always in layers", map[string]string{"GOBUILD_DEPENDENCY_CACHE": "layer"}, buildArgs{version: "dev", moduleCache: gbllb.ModuleCacheMount, dependencyCache: gbllb.DependencyCacheLayer}, ""},
		{"unknown dependency cache", map[string]string{"GOBUILD_DEPENDENCY_CACHE": "disk"}, buildArgs{},
			`build-arg GOBUILD_DEPENDENCY_CACHE="disk": want "auto" (the standard library's and the modules' when the build imports a cache), "layer" (both always) or "mount" (none: the builder's cache mount only)`},
		{"mount cache", map[string]string{"GOBUILD_MODULE_CACHE": "mount"}, defaults, ""},
		{"empty cache", map[string]string{"GOBUILD_MODULE_CACHE": ""}, defaults, ""},
		{"unknown cache", map[string]string{"GOBUILD_MODULE_CACHE": "volume"}, buildArgs{}, badCache},
		{"two bad", map[string]string{"SOURCE_DATE_EPOCH": "yesterday", "GOBUILD_MODULE_CACHE": "volume"}, buildArgs{}, badEpoch + "\n" + badCache},
		{"a vulnerability database mirror", map[string]string{"GOVULNDB": "https://vuln.mirror.example/db"}, buildArgs{version: "dev", moduleCache: "mount", dependencyCache: "auto", vulnDB: "https://vuln.mirror.example/db"}, ""},
		{"a database on a path of the builder", map[string]string{"GOVULNDB": "file:///srv/vulndb"}, buildArgs{},
			`build-arg GOVULNDB="file:///srv/vulndb": want the https:// or http:// URL of a Go vulnerability database, such as https://vuln.go.dev`},
		{"a database URL with credentials", map[string]string{"GOVULNDB": "https://ci:s3cr3t@vuln.mirror.example"}, buildArgs{},
			`build-arg GOVULNDB: the URL carries credentials, which would reach the build's definition and provenance; serve the database without them (a mirror on the builder's network)`},
	}
	for _, tc := range cases {
		if tc.want.vulnDB == "" {
			tc.want.vulnDB = gbllb.DefaultVulnDB
		}
		got, err := parseBuildArgs(tc.args)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %s", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !equalTime(got.epoch, tc.want.epoch) || got.version != tc.want.version ||
			got.explicitVersion != tc.want.explicitVersion || got.moduleCache != tc.want.moduleCache ||
			got.dependencyCache != tc.want.dependencyCache || got.vulnDB != tc.want.vulnDB {
			t.Errorf("%s: got %+v (epoch %v), want %+v (epoch %v)", tc.name, got, got.epoch, tc.want, tc.want.epoch)
		}
	}
}

func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b) && a.Location() == b.Location()
}

// TestOutlineListsEveryBuildArg: --call=outline lists every build-arg the
// frontend reads, first and in buildArgTable's order, with its description
// and default; parseBuildArgs reads only buildArgTable's names, so the two
// cannot disagree.
func TestOutlineListsEveryBuildArg(t *testing.T) {
	var o outline.Outline
	call(t, "frontend.outline", "", nil, &o)
	listed := map[string]outline.Arg{}
	for _, a := range o.Args {
		listed[a.Name] = a
	}
	for _, name := range []string{argVersion, argSourceDateEpoch, argModuleCache} {
		if _, ok := listed[name]; !ok {
			t.Errorf("--call=outline does not list %s: %+v", name, o.Args)
		}
	}
	if len(o.Args) < len(buildArgTable) {
		t.Fatalf("--call=outline lists %d build-args, want at least the %d of buildArgTable", len(o.Args), len(buildArgTable))
	}
	for i, want := range buildArgTable {
		got := o.Args[i]
		if got.Name != want.name || got.Description != want.description || got.Value != want.value || want.description == "" {
			t.Errorf("outline arg %d = %+v, want %s (%q, default %q)", i, got, want.name, want.description, want.value)
		}
	}
	for _, want := range []struct{ name, value, says string }{
		{argVersion, "dev", "git describe"},
		{argSourceDateEpoch, "", "commit time"},
		{argModuleCache, "mount", `"layer"`},
	} {
		if a := listed[want.name]; a.Value != want.value || !strings.Contains(a.Description, want.says) {
			t.Errorf("%s = %+v, want the default %q and a description that names %s", want.name, a, want.value, want.says)
		}
	}
}
