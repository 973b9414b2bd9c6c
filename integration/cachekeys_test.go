package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestGitChangeKeepsBuildCached: a new commit that leaves the sources as
// they were re-runs no go command; .git is outside the build's view.
func TestGitChangeKeepsBuildCached(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	git := gitIn(t, dir)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	// VERSION is given, so the build has no reason to read git history.
	opts := buildOpts{attrs: map[string]string{"platform": "linux/amd64", "build-arg:VERSION": "v1", "vcs:revision": "fixed"}}
	if _, err := build(context.Background(), dir, opts); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "--allow-empty", "-m", "second")
	if err := os.WriteFile(filepath.Join(dir, ".git", "description"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := build(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go mod download", "go build ./cmd/server (linux/amd64)", "go build ./cmd/worker (linux/amd64)"} {
		if v := res.vertex(t, name); !v.Cached {
			t.Errorf("%s ran again after a change to .git alone", name)
		}
	}
}
