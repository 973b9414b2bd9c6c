package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"

	"github.com/moby/sys/mountinfo"
)

// newDiskSize is the apparent size of a daemon's own filesystem. Its image
// is sparse, so only what the daemon writes takes space; a cold
// two-platform build of the bench's gRPC server writes a few GB.
const newDiskSize = 32 << 30

// newDisk is a filesystem made for one daemon: an ext4 image mounted
// through a loop device at dir.
type newDisk struct {
	image, dir, device string
}

// makeNewDisk makes an empty ext4 filesystem in image and mounts it at
// dir, through a loop device with direct I/O, so that its writes are not
// cached twice. Like the bed's own disk it has no journal: a fresh
// builder's edit then compares with a warm one's on like disks (a journal
// made the same build 0.7 s slower here: buildkitd calls fdatasync about
// a thousand times in it). Its inode tables are not zeroed in the
// background (noinit_itable), so that no writes but the daemon's land on
// it while it is timed.
func makeNewDisk(image, dir string) (*newDisk, error) {
	f, err := os.OpenFile(image, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	err = f.Truncate(newDiskSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Mkdir(dir, 0o700)
	}
	if err != nil {
		os.Remove(image)
		return nil, err
	}
	out, err := exec.Command("losetup", "--find", "--show", "--direct-io=on", image).CombinedOutput()
	if err != nil {
		os.Remove(dir)
		os.Remove(image)
		return nil, fmt.Errorf("losetup (needs root): %v: %s", err, out)
	}
	d := &newDisk{image: image, dir: dir, device: strings.TrimSpace(string(out))}
	for _, args := range [][]string{
		{"mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-E", "lazy_itable_init=1", d.device},
		{"mount", "-t", "ext4", "-o", "noinit_itable", d.device, dir},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			_ = d.remove()
			return nil, fmt.Errorf("%s: %v: %s", args[0], err, out)
		}
	}
	return d, nil
}

// unmount unmounts the filesystem and whatever a daemon left mounted
// under it, and frees the loop device, keeping the image.
func (d *newDisk) unmount() error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(d.dir))
	if err != nil {
		return err
	}
	// Last mounted first: a mount under dir keeps dir busy.
	slices.Reverse(mounts)
	for _, m := range mounts {
		if err := syscall.Unmount(m.Mountpoint, 0); err != nil && !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("unmounting %s: %w", m.Mountpoint, err)
		}
	}
	if d.device != "" {
		if out, err := exec.Command("losetup", "-d", d.device).CombinedOutput(); err != nil {
			return fmt.Errorf("losetup -d %s: %v: %s", d.device, err, out)
		}
		d.device = ""
	}
	return nil
}

// remove unmounts the filesystem and deletes it: one file, where deleting
// the daemon's state on the shared disk would delete tens of thousands.
func (d *newDisk) remove() error {
	if err := d.unmount(); err != nil {
		return err
	}
	if err := os.Remove(d.dir); err != nil {
		return err
	}
	return os.Remove(d.image)
}
