package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// TestVersionFromGit: without a VERSION build-arg, a context that is a git
// checkout gives {{.Version}} from the nearest tag, and the commit and its
// time reach the labels.
func TestVersionFromGit(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	git := gitIn(t, dir)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	git("tag", "v3.1.4")
	git("commit", "-q", "--allow-empty", "-m", "second")
	head := git("rev-parse", "HEAD")

	img := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})["linux/amd64"]
	want := "v3.1.4-1-g" + head[:7]
	server := writeExecutable(t, img.Files["/usr/local/bin/server"])
	if out := runBinary(t, nil, server, "version"); !strings.HasPrefix(out, "server "+want+" ") {
		t.Errorf("server version = %q, want %s from git describe", out, want)
	}
	labels := img.Config.Config.Labels
	if labels["org.opencontainers.image.revision"] != head || labels["org.opencontainers.image.created"] != "2023-11-14T22:13:20Z" {
		t.Errorf("labels = %v, want the commit and its time", labels)
	}
}

// gitIn returns a runner of git commands in dir, with a fixed identity and
// commit date so that history is the same on every run.
func gitIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=gobuild", "-c", "user.email=ci@gobuild.invalid"}, args...)...)
		cmd.Env = append(cmd.Environ(), "GIT_COMMITTER_DATE=1700000000 +0000", "GIT_AUTHOR_DATE=1700000000 +0000")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}
