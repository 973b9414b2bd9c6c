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

// TestDocsChangeKeepsBuildCached: go build sees only the files the go
// command reads, //go:embed targets included, so editing docs leaves it
// cached while editing an embedded file rebuilds and ships the new text.
// (Every binary shares one source tree, so the worker's step re-runs too;
// Go's build cache makes that a link.)
func TestDocsChangeKeepsBuildCached(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	binaries := func() (*buildResult, string) {
		t.Helper()
		out := t.TempDir()
		opts := buildOpts{
			attrs:       map[string]string{"platform": "linux/amd64", "target": "binaries", "build-arg:VERSION": "v1"},
			localOutput: out,
		}
		res, err := build(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res, runBinary(t, nil, filepath.Join(out, "linux_amd64", "server"), "greet")
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const server, worker = "go build ./cmd/server (linux/amd64)", "go build ./cmd/worker (linux/amd64)"

	if _, out := binaries(); out != "hello from an embedded file\n<p>embedded tree</p>" {
		t.Fatalf("server greet printed %q; the embedded files did not reach the build", out)
	}

	write("docs/README.md", "# twobins\n\nRewritten.\n")
	write("NOTES.txt", "a file nothing reads\n")
	res, _ := binaries()
	for _, name := range []string{server, worker} {
		if !res.vertex(t, name).Cached {
			t.Errorf("%s ran again after a change to docs alone", name)
		}
	}

	write("cmd/server/greeting.txt", "changed greeting\n")
	res, out := binaries()
	if res.vertex(t, server).Cached {
		t.Errorf("%s stayed cached after its embedded file changed", server)
	}
	if out != "changed greeting\n<p>embedded tree</p>" {
		t.Errorf("server greet printed %q after the edit", out)
	}
}
