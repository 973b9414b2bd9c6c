package integration

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// TestNonrootWritableState runs a service as the image's nonroot user, in
// a chroot of its unpacked image with the image's environment: it writes
// into its workdir, a volume, an image.dirs entry and the directory
// image.files seeds for it.
func TestNonrootWritableState(t *testing.T) {
	images := buildImages(t, "testdata/nonroot", testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	img := images["linux/amd64"]
	root := unpackRootfs(t, img)
	out, err := imageCommand(t, root, img, "/usr/local/bin/app").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("app as %s in %s: %v\n%s", img.Config.Config.User, img.Config.Config.WorkingDir, err, out)
	}
	for _, p := range []string{"/srv/app/in-workdir.txt", "/data/in-volume.txt", "/var/cache/app/in-dirs.txt", "/var/lib/app/in-files.txt"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("the app did not write %s: %v", p, err)
		}
	}

}

// TestFilesParentsRootOwned: the parents image.files and the directories
// layer create are root's 0755, only the named entries have the owner,
// and the static base layer is left as it is. The binary's layer too is
// root's, every entry dated the epoch.
func TestFilesParentsRootOwned(t *testing.T) {
	images := buildImages(t, "testdata/nonroot", testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	img := images["linux/amd64"]
	want := map[string]map[string]string{
		"/var/lib/app/seed.txt": { // image.files
			"/var": "0:0 0755", "/var/lib": "0:0 0755",
			"/var/lib/app": "65532:65532 0755", "/var/lib/app/seed.txt": "65532:65532 0644",
		},
		"/srv/app": { // workdir, volumes, image.dirs
			"/srv": "0:0 0755", "/srv/app": "65532:65532 0755", "/data": "65532:65532 0755",
			"/var": "0:0 0755", "/var/cache": "0:0 0755", "/var/cache/app": "65532:65532 0755",
		},
		"/usr/local/bin/app": { // the one binary, copied in one step
			"/usr": "0:0 0755", "/usr/local": "0:0 0755", "/usr/local/bin": "0:0 0755", "/usr/local/bin/app": "0:0 0755",
		},
	}
	// The directories go in layers of their own: the static base stays
	// the same blob as every other image's.
	other := buildImages(t, "../examples/files", testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})["linux/amd64"]
	if a, b := img.Manifest.Layers[0].Digest, other.Manifest.Layers[0].Digest; a != b {
		t.Errorf("static base layer %s differs from examples/files' %s", a, b)
	}
	for in, entries := range want {
		hdrs := layerWith(t, img, in)
		if hdrs == nil {
			t.Errorf("no layer holds %s", in)
			continue
		}
		for p, w := range entries {
			h := hdrs[p]
			if h == nil {
				t.Errorf("the layer of %s has no %s", in, p)
				continue
			}
			if got := fmt.Sprintf("%d:%d %04o", h.Uid, h.Gid, h.Mode&0o7777); got != w {
				t.Errorf("the layer of %s: %s is %s, want %s", in, p, got, w)
			}
			if (h.Typeflag == tar.TypeDir || in == "/usr/local/bin/app") && !h.ModTime.Equal(img.Config.Created.UTC()) {
				t.Errorf("the layer of %s: %s dated %v, not the epoch %v", in, p, h.ModTime, img.Config.Created)
			}
		}
	}
}

// layerWith returns the headers of the last layer that holds p.
func layerWith(t *testing.T, img *testenv.Image, p string) map[string]*tar.Header {
	t.Helper()
	for i := len(img.Manifest.Layers) - 1; i >= 0; i-- {
		if hdrs := layerHeaders(t, img, i); hdrs[p] != nil {
			return hdrs
		}
	}
	return nil
}
