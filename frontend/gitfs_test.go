package frontend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/gobuildkit/gobuild/internal/gitinfo"
	"github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// dirRef serves a directory as a solved reference does, and counts the
// bytes read.
type dirRef struct {
	root  string
	bytes int
}

func (r *dirRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(r.root, req.Filename))
	if err != nil {
		return nil, err
	}
	if rg := req.Range; rg != nil {
		data = data[min(rg.Offset, len(data)):min(rg.Offset+rg.Length, len(data))]
	}
	r.bytes += len(data)
	return data, nil
}

func (r *dirRef) ReadDir(_ context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error) {
	entries, err := os.ReadDir(filepath.Join(r.root, req.Path))
	if err != nil {
		return nil, err
	}
	var out []*fstypes.Stat
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, &fstypes.Stat{Path: e.Name(), Mode: uint32(info.Mode()), Size: info.Size()})
	}
	return out, nil
}

// TestGitFSReadsLikeDisk: the history read through the gateway is the
// history read from disk, and a large pack is read by the blocks the walk
// needs, not whole.
func TestGitFSReadsLikeDisk(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on this machine")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t.invalid"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	// A history of incompressible files in one pack, as a clone has it.
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 64 {
		data := make([]byte, 64<<10)
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("f", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", ".")
	git("commit", "-q", "-m", "one")
	git("tag", "-a", "-m", "release", "v1.0.0")
	git("commit", "-q", "--allow-empty", "-m", "two")
	git("gc", "-q")

	want, err := gitinfo.Read(osfs.New(filepath.Join(dir, ".git")))
	if err != nil {
		t.Fatal(err)
	}
	ref := &dirRef{root: dir}
	got, err := gitinfo.Read(newGitFS(context.Background(), ref, ".git"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Commit != want.Commit || got.Version != want.Version || !got.CommitTime.Equal(*want.CommitTime) {
		t.Errorf("through the gateway: %+v; from disk: %+v", got, want)
	}
	var size int64
	_ = filepath.WalkDir(filepath.Join(dir, ".git", "objects", "pack"), func(_ string, d fs.DirEntry, _ error) error {
		if info, err := d.Info(); err == nil && !d.IsDir() {
			size += info.Size()
		}
		return nil
	})
	t.Logf("read %d bytes of %d-byte packs", ref.bytes, size)
	if int64(ref.bytes) >= size/2 {
		t.Errorf("read %d bytes of packs totalling %d: the walk should read a few blocks", ref.bytes, size)
	}
}

// TestGitFSBudget: however a history makes go-git read (a delta chain
// that never ends, say), the reads stop at the budget with an error.
func TestGitFSBudget(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "pack"), make([]byte, 64), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys := newGitFS(context.Background(), &dirRef{root: dir}, ".git")
	f, err := fsys.Open("pack")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	reads := 0
	for ; reads <= gitMaxReads; reads++ {
		if _, err = f.(interface {
			ReadAt([]byte, int64) (int, error)
		}).ReadAt(buf, 12); err != nil {
			break
		}
	}
	if !errors.Is(err, errGitBudget) || reads != gitMaxReads {
		t.Errorf("after %d reads: %v, want the budget's error after %d", reads, err, gitMaxReads)
	}
}
