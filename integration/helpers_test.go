package integration

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/moby/buildkit/client"
)

// vertex returns the last reported state of the step with that name.
func vertex(t *testing.T, r *testenv.BuildResult, name string) *client.Vertex {
	t.Helper()
	v, err := r.Vertex(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ran reports whether the build ran the step named name: it completed,
// neither from the cache nor with an error (a step BuildKit stops
// loading, once a later one is found in the cache, ends canceled).
func ran(r *testenv.BuildResult, name string) bool {
	for _, v := range r.Vertices {
		if v.Name == name && v.Completed != nil && !v.Cached && v.Error == "" {
			return true
		}
	}
	return false
}

// copyDir copies a test module into a fresh directory the test may change.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeExecutable puts a binary from an image on disk to run it.
func writeExecutable(t *testing.T, f *testenv.File) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), path.Base(f.Hdr.Name))
	if err := os.WriteFile(p, f.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// pruneAll empties the bed's build cache.
func pruneAll(t *testing.T) {
	t.Helper()
	if err := bed.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
}
