package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/client"
)

// TestReachedSourcesFollowToolchainTags: with a cache imported, go build
// reads only the standard packages its binary reaches. A file built under
// a tag only the builder's toolchain sets (the architecture level) brings
// compress/bzip2: the frontend counts that file's imports too, or go build
// would find no compress/bzip2 in its src.
func TestReachedSourcesFollowToolchainTags(t *testing.T) {
	dir := copyDir(t, "testdata/toolchaintags")
	cache := map[string]string{"ref": bed.Registry + "/cache:toolchaintags", "registry.insecure": "true"}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{
		Attrs:        map[string]string{"platform": "linux/amd64,linux/arm64"},
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Logs)
	}
	// One layer of sources for both platforms' go builds.
	if log, err := res.StepLog(gbllb.StepReachedSources); err != nil || !strings.Contains(string(log), "directories of the standard library kept") {
		t.Fatalf("no step made the reached sources (%v):\n%s", err, log)
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		if images[platform] == nil || images[platform].Files["/usr/local/bin/tagged"] == nil {
			t.Fatalf("no binary for %s", platform)
		}
	}
	bin := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/tagged"])
	if out := runBinary(t, nil, bin); !strings.HasPrefix(out, "bzip2: ") {
		t.Errorf("the binary printed %q, want the file built for the architecture level", out)
	}
}
