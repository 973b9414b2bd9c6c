package integration

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	// The OCI worker's state, which buildkitd makes as it starts.
	if _, err := os.Stat(filepath.Join(root, "runc-overlayfs")); err != nil {
		t.Fatalf("the daemon wrote no state in %s: %v", root, err)
	}
	fstype, source := mountOf(t, root)
	if fstype != "ext4" || !strings.HasPrefix(source, "/dev/loop") {
		t.Fatalf("%s is a %s filesystem from %s, want ext4 on a loop device", root, fstype, source)
	}
	// Direct I/O, or the loop device's page cache would hold every write
	// a second time.
	if dio, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(source), "loop/dio")); err != nil || strings.TrimSpace(string(dio)) != "1" {
		t.Errorf("%s without direct I/O: dio %q, %v", source, dio, err)
	}

	stopped = true
	if err := bed.StopDaemon(name); err != nil {
		t.Fatal(err)
	}
	if fstype, _ := mountOf(t, root); fstype != "" {
		t.Errorf("%s is still mounted after StopDaemon", root)
	}
	// The kernel frees a device detached while mounted after the unmount,
	// from a work queue.
	attached := filepath.Join("/sys/block", filepath.Base(source), "loop")
	deadline := time.Now().Add(5 * time.Second)
	for _, err := os.Stat(attached); !errors.Is(err, fs.ErrNotExist); _, err = os.Stat(attached) {
		if time.Now().After(deadline) {
			t.Errorf("%s is still attached 5 s after StopDaemon: %v", source, err)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range []string{root, root + ".ext4"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is left after StopDaemon: %v", p, err)
		}
	}
}

// mountOf returns the type and source of the filesystem mounted at dir,
// the topmost where several are, or empty strings when none is.
func mountOf(t *testing.T, dir string) (fstype, source string) {
	t.Helper()
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return m.Mountpoint != dir, false
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) == 0 {
		return "", ""
	}
	top := mounts[len(mounts)-1]
	return top.FSType, top.Source
}
