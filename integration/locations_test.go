package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/moby/buildkit/solver/errdefs"
)

// sourceLines are the lines an error points at, by file.
func sourceLines(err error) map[string][]int32 {
	lines := map[string][]int32{}
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			lines[src.Info.Filename] = append(lines[src.Info.Filename], r.Start.Line)
		}
	}
	return lines
}

// noGoStep fails the test if a go command ran.
func noGoStep(t *testing.T, res *testenv.BuildResult) {
	t.Helper()
	if res == nil {
		return
	}
	for _, v := range res.Vertices {
		if strings.HasPrefix(v.Name, "go ") {
			t.Errorf("step %q ran", v.Name)
		}
	}
}

// TestClientPlatformChecked: --platform windows/amd64 fails as the spec's
// platforms: [windows/amd64] would, naming the option rather than a line
// of the spec, before anything is compiled.
func TestClientPlatformChecked(t *testing.T) {
	for _, platform := range []string{"windows/amd64", "linux/amd64,linux/sparc64"} {
		t.Run(platform, func(t *testing.T) {
			res, err := bed.Build(context.Background(), copyDir(t, "testdata/twobins"), testenv.BuildOpts{Attrs: map[string]string{"platform": platform}})
			if err == nil || !strings.Contains(err.Error(), "--platform: ") || !strings.Contains(err.Error(), "ask for linux platforms") {
				t.Fatalf("error = %v, want one naming --platform", err)
			}
			if lines := sourceLines(err); len(lines) > 0 {
				t.Errorf("error points at %v, not at the option", lines)
			}
			noGoStep(t, res)
		})
	}
}
