package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/sys/mountinfo"
)

// loopDiskSize is the apparent size of a daemon's own filesystem. Its
// image is sparse, so only what the daemon writes takes space: a few GB
// for a cold two-platform build of the bench's gRPC server, far less on a
// fresh builder that imports a cache.
const loopDiskSize = 32 << 30

// loopDisk is a filesystem made for one daemon: an ext4 image mounted
// through a loop device at dir.
type loopDisk struct {
	image, dir string
}

// makeLoopDisk makes an empty ext4 filesystem in image and mounts it at
// dir, through a loop device with direct I/O, so that its writes are not
// cached twice. Like the bed's own disk it has no journal, so that a fresh
// builder's edit compares with a warm one's on like disks (a journal made
// the same build 0.7 s slower here: buildkitd calls fdatasync about a
// thousand times in it). noinit_itable: nothing zeroes inode tables in the
// background while the daemon is timed.
func makeLoopDisk(image, dir string) (*loopDisk, error) {
	// The mount table has resolved, absolute paths; unmount looks for dir
	// there.
	parent, err := filepath.EvalSymlinks(filepath.Dir(dir))
	if err == nil {
		parent, err = filepath.Abs(parent)
	}
	if err != nil {
		return nil, err
	}
	d := &loopDisk{image: image, dir: filepath.Join(parent, filepath.Base(dir))}
	f, err := os.OpenFile(image, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	err = f.Truncate(loopDiskSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Mkdir(d.dir, 0o700)
	}
	if err != nil {
		return nil, errors.Join(err, d.remove())
	}
	out, err := exec.Command("losetup", "--find", "--show", "--direct-io=on", image).Output()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("losetup (needs root): %w: %s", err, stderrOf(err)), d.remove())
	}
	device := strings.TrimSpace(string(out))
	for _, args := range [][]string{
		{"mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-E", "nodiscard", device},
		{"mount", "-t", "ext4", "-o", "noinit_itable", device, d.dir},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			return nil, errors.Join(fmt.Errorf("%s: %w: %s", args[0], err, out), detach(device), d.remove())
		}
	}
	// Detaching a device in use marks it to go with its last user, the
	// mount, so that unmounting is all there is to undo.
	if err := detach(device); err != nil {
		return nil, errors.Join(err, d.remove())
	}
	return d, nil
}

func detach(device string) error {
	if out, err := exec.Command("losetup", "-d", device).CombinedOutput(); err != nil {
		return fmt.Errorf("losetup -d %s: %w: %s", device, err, out)
	}
	return nil
}

func stderrOf(err error) []byte {
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.Stderr
	}
	return nil
}

// unmount unmounts the filesystem, and first whatever a daemon left
// mounted under it; the loop device goes with the last. The image stays.
func (d *loopDisk) unmount() error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(d.dir))
	if err != nil {
		return err
	}
	// Last mounted first: a mount under dir, or on top of it, keeps the
	// one below busy.
	slices.Reverse(mounts)
	for _, m := range mounts {
		// EINVAL: no longer a mount point.
		if err := syscall.Unmount(m.Mountpoint, 0); err != nil && !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("unmounting %s: %w", m.Mountpoint, err)
		}
	}
	return nil
}

// remove unmounts the filesystem and deletes it: one file, where deleting
// the daemon's state on the shared disk would delete tens of thousands.
func (d *loopDisk) remove() error {
	if err := d.unmount(); err != nil {
		return err
	}
	if err := os.Remove(d.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Remove(d.image)
}
