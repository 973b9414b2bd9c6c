package integration

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/moby/sys/mountinfo"
)

// TestDaemonOnNewDisk: the benchmark's fresh builders each keep their state
// on a filesystem made for them, as a hosted runner's builder starts on a
// disk of its own, so that none pays for the removal of the one before it
// (testenv.StartDaemonOnNewDisk). Stopping one deletes that filesystem and
// leaves nothing mounted.
func TestDaemonOnNewDisk(t *testing.T) {
	const name = "newdisk"
	root := filepath.Join(bed.Dir, name)
	addr := "unix://" + filepath.Join(bed.Dir, name+".sock")
	if err := bed.StartDaemonOnNewDisk(context.Background(), name, addr); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			bed.StopDaemon(name)
		}
	})

	var rootStat, bedStat syscall.Stat_t
	if err := syscall.Stat(root, &rootStat); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(bed.Dir, &bedStat); err != nil {
		t.Fatal(err)
	}
	if rootStat.Dev == bedStat.Dev {
		t.Fatalf("the daemon's state %s is on the bed's filesystem", root)
	}
	if entries, err := os.ReadDir(root); err != nil || len(entries) == 0 {
		t.Fatalf("the daemon wrote no state in %s: %v, %v", root, entries, err)
	}
	fstype, source := mountOf(t, root)
	if fstype != "ext4" {
		t.Fatalf("%s is a %s filesystem (from %s), want ext4", root, fstype, source)
	}

	stopped = true
	if err := bed.StopDaemon(name); err != nil {
		t.Fatal(err)
	}
	if fstype, _ := mountOf(t, root); fstype != "" {
		t.Errorf("%s is still mounted after StopDaemon", root)
	}
	for _, p := range []string{root, root + ".ext4"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is left after StopDaemon: %v", p, err)
		}
	}
}

// mountOf returns the type and source of the filesystem mounted at dir,
// or empty strings when nothing is.
func mountOf(t *testing.T, dir string) (fstype, source string) {
	t.Helper()
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) == 0 {
		return "", ""
	}
	return mounts[0].FSType, mounts[0].Source
}
