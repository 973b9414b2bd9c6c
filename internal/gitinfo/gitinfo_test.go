package gitinfo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
)

// TestReadMatchesGit builds histories of every shape with the host's git
// and checks that Read says what git says of them.
func TestReadMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on this machine to compare with")
	}
	for _, tc := range []struct {
		name  string
		setup func(r *repo) string // returns the directory to read
	}{
		{"no tag", func(r *repo) string { r.commits(3); return r.dir }},
		{"lightweight tag behind", func(r *repo) string {
			r.commits(1)
			r.git("tag", "v0.1.0")
			r.commits(2)
			return r.dir
		}},
		{"annotated tag at HEAD", func(r *repo) string {
			r.commits(2)
			r.git("tag", "-a", "-m", "release", "v1.0.0")
			return r.dir
		}},
		{"tags of one commit", func(r *repo) string {
			r.commits(1)
			r.git("tag", "b-light")
			r.git("tag", "-a", "-m", "old", "c-old")
			r.tick()
			r.git("tag", "-a", "-m", "new", "d-new")
			r.git("tag", "a-light")
			r.commits(1)
			return r.dir
		}},
		{"tag of a tag", func(r *repo) string {
			r.commits(1)
			r.git("tag", "-a", "-m", "inner", "inner")
			r.git("tag", "-a", "-m", "outer", "outer", "inner")
			r.git("tag", "-d", "inner")
			r.commits(1)
			return r.dir
		}},
		// A release candidate's tag re-tagged as the release: git names
		// it by the tag object's own name, with the suffix even at HEAD.
		{"re-tagged release candidate at HEAD", func(r *repo) string {
			r.commits(1)
			r.git("tag", "-a", "-m", "rc", "v1.0.0-rc1")
			r.git("tag", "v1.0.0", "v1.0.0-rc1")
			r.git("tag", "-d", "v1.0.0-rc1")
			return r.dir
		}},
		{"re-tagged release candidate behind", func(r *repo) string {
			r.commits(1)
			r.git("tag", "-a", "-m", "rc", "v1.0.0-rc1")
			r.git("tag", "v1.0.0", "v1.0.0-rc1")
			r.git("tag", "-d", "v1.0.0-rc1")
			r.commits(2)
			return r.dir
		}},
		{"packed", func(r *repo) string {
			r.commits(1)
			r.git("tag", "-a", "-m", "release", "v2.0.0")
			r.commits(3)
			r.git("gc", "-q")
			return r.dir
		}},
		{"detached", func(r *repo) string {
			r.commits(2)
			r.git("tag", "v1")
			r.commits(2)
			r.git("checkout", "-q", "--detach", "HEAD~1")
			return r.dir
		}},
		{"merges", func(r *repo) string {
			r.commits(1)
			r.git("tag", "-a", "-m", "base", "v1.0.0")
			r.git("checkout", "-q", "-b", "side")
			r.commits(2)
			r.git("tag", "side-tag")
			r.commits(1)
			r.git("checkout", "-q", "main")
			r.commits(3)
			r.git("tag", "-a", "-m", "main", "v1.1.0")
			r.commits(1)
			r.git("merge", "-q", "--no-ff", "-m", "merge", "side")
			r.commits(2)
			return r.dir
		}},
		{"more candidates than git keeps", func(r *repo) string {
			for i := range 12 {
				r.commits(1)
				r.git("tag", fmt.Sprintf("t%02d", i))
			}
			r.git("checkout", "-q", "-b", "side", "t00")
			r.commits(1)
			r.git("checkout", "-q", "main")
			r.git("merge", "-q", "--no-ff", "-m", "merge", "side")
			return r.dir
		}},
		{"shallow clone", func(r *repo) string {
			r.commits(1)
			r.git("tag", "-a", "-m", "release", "v1.0.0")
			r.commits(3)
			return r.clone("--depth", "2")
		}},
		{"shallow clone reaching the tag", func(r *repo) string {
			r.commits(1)
			r.git("tag", "-a", "-m", "release", "v1.0.0")
			r.commits(1)
			return r.clone("--depth", "2")
		}},
		{"many objects", func(r *repo) string {
			r.manyObjects(1 << 14) // in a pack, as fast-import writes them
			r.commits(1)
			return r.dir
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			dir := tc.setup(r)
			host := &repo{t: t, dir: dir}
			got, err := Read(osfs.New(filepath.Join(dir, ".git")))
			if err != nil {
				t.Fatal(err)
			}
			sec, _ := strconv.ParseInt(host.git("log", "-1", "--format=%ct"), 10, 64)
			// git warns on stderr about a re-tagged tag; its answer is the
			// last line.
			described := strings.Split(host.git("describe", "--tags", "--always"), "\n")
			want := Info{Commit: host.git("rev-parse", "HEAD"), Version: described[len(described)-1]}
			if got.Commit != want.Commit || got.Version != want.Version {
				t.Errorf("Read = %s %s, git says %s %s", got.Commit, got.Version, want.Commit, want.Version)
			}
			t.Logf("%s %s", got.Commit[:12], got.Version)
			if got.CommitTime == nil || got.CommitTime.Unix() != sec || got.CommitTime.Location() != time.UTC {
				t.Errorf("commit time = %v, git says %d", got.CommitTime, sec)
			}
		})
	}
}

// TestReadBrokenHistory: what cannot be read is an error, never a
// wrong answer; what could be read is kept.
func TestReadBrokenHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on this machine")
	}
	t.Run("empty repository", func(t *testing.T) {
		r := newRepo(t)
		info, err := Read(osfs.New(filepath.Join(r.dir, ".git")))
		if err == nil || info.Commit != "" {
			t.Errorf("Read = %+v, %v; want an error and nothing known", info, err)
		}
	})
	t.Run("missing parent", func(t *testing.T) {
		r := newRepo(t)
		r.commits(1)
		r.git("tag", "v1")
		r.commits(1)
		parent := r.git("rev-parse", "HEAD~1")
		if err := os.Remove(filepath.Join(r.dir, ".git", "objects", parent[:2], parent[2:])); err != nil {
			t.Fatal(err)
		}
		info, err := Read(osfs.New(filepath.Join(r.dir, ".git")))
		if err == nil || !strings.Contains(err.Error(), parent) {
			t.Errorf("error = %v, want one naming the missing commit %s", err, parent)
		}
		if info.Commit != r.git("rev-parse", "HEAD") || info.CommitTime == nil || info.Version != "" {
			t.Errorf("Read = %+v; want HEAD and its time, no version", info)
		}
	})
}

type repo struct {
	t   *testing.T
	dir string
	// date is the next commit's time: each commit is a second later.
	date int64
}

func newRepo(t *testing.T) *repo {
	r := &repo{t: t, dir: t.TempDir(), date: 1700000000}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=gobuild", "-c", "user.email=ci@gobuild.invalid", "-c", "advice.detachedHead=false", "-c", "gc.auto=0"}, args...)...)
	date := fmt.Sprintf("%d +0000", r.date)
	cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE="+date, "GIT_AUTHOR_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %q: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) tick() { r.date++ }

func (r *repo) commits(n int) {
	r.t.Helper()
	for range n {
		r.tick()
		r.git("commit", "-q", "--allow-empty", "-m", fmt.Sprint("commit at ", r.date))
	}
}

// clone clones the repository with args into a new directory, the way CI
// checks out a repository.
func (r *repo) clone(args ...string) string {
	r.t.Helper()
	dst := filepath.Join(r.t.TempDir(), "clone")
	r.git(append(append([]string{"clone", "-q", "--no-local"}, args...), "file://"+r.dir, dst)...)
	return dst
}

// manyObjects adds n blobs, so that git abbreviates commits longer: 8
// hex digits from 2^14 packed objects.
func (r *repo) manyObjects(n int) {
	r.t.Helper()
	var stream strings.Builder
	for i := range n {
		data := fmt.Sprint("blob ", i)
		fmt.Fprintf(&stream, "blob\ndata %d\n%s\n", len(data), data)
	}
	cmd := exec.Command("git", "-C", r.dir, "fast-import", "--quiet")
	cmd.Stdin = strings.NewReader(stream.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("git fast-import: %v\n%s", err, out)
	}
}
