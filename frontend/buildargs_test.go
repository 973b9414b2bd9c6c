package frontend

import (
	"testing"
	"time"

	gbllb "github.com/gobuildkit/gobuild/llb"
)

func TestParseBuildArgs(t *testing.T) {
	epoch := time.Unix(1700000000, 0).UTC()
	const (
		badEpoch = `build-arg SOURCE_DATE_EPOCH="yesterday" is not a number of seconds since 1970`
		badCache = `build-arg GOBUILD_MODULE_CACHE="volume": want "mount" (a persistent cache mount) or "layer" (a layer a registry cache carries)`
	)
	defaults := buildArgs{version: "dev", moduleCache: gbllb.ModuleCacheMount}
	cases := []struct {
		name string
		args map[string]string
		want buildArgs
		err  string
	}{
		{"nil", nil, defaults, ""},
		{"none", map[string]string{}, defaults, ""},
		{"others ignored", map[string]string{"PRIVATE_GOPROXY": "https://proxy.example"}, defaults, ""},
		{"epoch", map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, buildArgs{epoch: &epoch, version: "dev", moduleCache: "mount"}, ""},
		{"empty epoch", map[string]string{"SOURCE_DATE_EPOCH": ""}, defaults, ""},
		{"epoch in words", map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, buildArgs{}, badEpoch},
		{"fractional epoch", map[string]string{"SOURCE_DATE_EPOCH": "1.5"}, buildArgs{},
			`build-arg SOURCE_DATE_EPOCH="1.5" is not a number of seconds since 1970`},
		{"version", map[string]string{"VERSION": "v1.2.3"}, buildArgs{version: "v1.2.3", explicitVersion: true, moduleCache: "mount"}, ""},
		// An empty VERSION keeps the default but still stops git describe.
		{"empty version", map[string]string{"VERSION": ""}, buildArgs{version: "dev", explicitVersion: true, moduleCache: "mount"}, ""},
		{"layer cache", map[string]string{"GOBUILD_MODULE_CACHE": "layer"}, buildArgs{version: "dev", moduleCache: gbllb.ModuleCacheLayer}, ""},
		{"mount cache", map[string]string{"GOBUILD_MODULE_CACHE": "mount"}, defaults, ""},
		{"empty cache", map[string]string{"GOBUILD_MODULE_CACHE": ""}, defaults, ""},
		{"unknown cache", map[string]string{"GOBUILD_MODULE_CACHE": "volume"}, buildArgs{}, badCache},
		{"two bad", map[string]string{"SOURCE_DATE_EPOCH": "yesterday", "GOBUILD_MODULE_CACHE": "volume"}, buildArgs{}, badEpoch + "\n" + badCache},
	}
	for _, tc := range cases {
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
			got.explicitVersion != tc.want.explicitVersion || got.moduleCache != tc.want.moduleCache {
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
