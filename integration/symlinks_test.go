package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// symlinkIn makes the symlink name (slash path, in dir) to target,
// creating its directory; git fixtures with symlinks are fragile, so the
// tests make them.
func symlinkIn(t *testing.T, dir, name, target string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// moveIn renames from to to inside dir, creating to's directory.
func moveIn(t *testing.T, dir, from, to string) {
	t.Helper()
	dst := filepath.Join(dir, filepath.FromSlash(to))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, filepath.FromSlash(from)), dst); err != nil {
		t.Fatal(err)
	}
}

// TestSymlinksInsideContextBuild: a package directory, go.mod and go.sum
// that are symlinks to elsewhere in the context build, as go builds them:
// the module download and go build follow them.
func TestSymlinksInsideContextBuild(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	moveIn(t, dir, "cmd/worker", "internal/worker")
	symlinkIn(t, dir, "cmd/worker", "../internal/worker")
	// Named so that no pattern for module files picks them up by chance.
	for f, target := range map[string]string{"go.mod": "build/module.txt", "go.sum": "build/sums.txt"} {
		moveIn(t, dir, f, target)
		symlinkIn(t, dir, f, target)
	}
	if _, out := buildAndRun(t, dir, "worker", map[string]string{"build-arg:VERSION": "v9"}); out != "worker v9-amd64" {
		t.Errorf("worker printed %q", out)
	}
}

// TestSymlinksLeavingContextRefused: a package directory that links out
// of the context fails at the binary's package line, naming the link.
func TestSymlinksLeavingContextRefused(t *testing.T) {
	dir, outside := copyDir(t, "testdata/twobins"), filepath.Join(t.TempDir(), "worker")
	if err := os.Rename(filepath.Join(dir, "cmd", "worker"), outside); err != nil {
		t.Fatal(err)
	}
	symlinkIn(t, dir, "cmd/worker", outside)
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	want := "gobuild.yaml:5:14: binaries[1].package ./cmd/worker: cmd/worker is a symlink to " + outside + ", which leaves the build context"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
	if lines := sourceLines(err); !slices.Equal(lines["gobuild.yaml"], []int32{5}) {
		t.Errorf("error points at %v, want gobuild.yaml line 5", lines)
	}
	noGoStep(t, res)
}
