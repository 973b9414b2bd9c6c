package integration

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// unpackRootfs writes an image's files into a fresh directory with their
// owners and modes (sticky and setuid bits too), as a runtime would, and
// makes the workdir and the volumes the image lacks as a runtime does.
func unpackRootfs(t *testing.T, img *testenv.Image) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("unpacking an image with its owners needs root")
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(mapsKeys(img.Files))
	for _, name := range names {
		f := img.Files[name]
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch f.Hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			err = os.WriteFile(p, f.Data, 0o600)
		case tar.TypeSymlink:
			err = os.Symlink(f.Hdr.Linkname, p)
		case tar.TypeLink:
			err = os.Link(filepath.Join(root, f.Hdr.Linkname), p)
		default:
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, f.Hdr.Uid, f.Hdr.Gid); err != nil {
			t.Fatal(err)
		}
	}
	// Modes last: a directory without write or search bits still takes
	// its children while it is 0755.
	for _, name := range slices.Backward(names) {
		f := img.Files[name]
		if f.Hdr.Typeflag == tar.TypeDir || f.Hdr.Typeflag == tar.TypeReg {
			if err := syscall.Chmod(filepath.Join(root, name), uint32(f.Hdr.Mode&0o7777)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A runtime makes a missing workdir or volume root's, 0755.
	cfg := img.Config.Config
	for _, p := range append(slices.Sorted(mapsKeys(cfg.Volumes)), cfg.WorkingDir) {
		if p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// imageCommand runs args in the unpacked image as a runtime would: in a
// chroot, as the image's user (numeric uid[:gid]) with no supplementary
// groups, in its working directory, with the image's environment only.
func imageCommand(t *testing.T, root string, img *testenv.Image, args ...string) *exec.Cmd {
	t.Helper()
	cfg := img.Config.Config
	u, g, hasGroup := strings.Cut(cfg.User, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		t.Fatalf("image user %q is not numeric", cfg.User)
	}
	gid := uid
	if hasGroup {
		if gid, err = strconv.ParseUint(g, 10, 32); err != nil {
			t.Fatalf("image user %q is not numeric", cfg.User)
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = slices.Clone(cfg.Env)
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = cmp.Or(cfg.WorkingDir, "/")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     root,
		Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
	}
	return cmd
}

// layerHeaders reads the tar headers of one of an image's layers by path.
func layerHeaders(t *testing.T, img *testenv.Image, i int) map[string]*tar.Header {
	t.Helper()
	layer := img.Manifest.Layers[i]
	var r io.Reader = bytes.NewReader(img.Layout.Blobs[layer.Digest])
	if strings.HasSuffix(layer.MediaType, "gzip") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	out := map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[path.Clean("/"+hdr.Name)] = hdr
	}
}

// freePort is a TCP port on the loopback that nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
