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
// image.files seeds for it. The layers hold those directories owned by
// the user, and every parent either layer created is root's 0755.
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

	if n := len(img.Manifest.Layers); n != 4 {
		t.Fatalf("%d layers, want static base, binaries, files, directories", n)
	}
	want := map[int]map[string]string{
		2: { // image.files
			"/var": "0:0 0755", "/var/lib": "0:0 0755",
			"/var/lib/app": "65532:65532 0755", "/var/lib/app/seed.txt": "65532:65532 0644",
		},
		3: { // workdir, volumes, image.dirs
			"/srv": "0:0 0755", "/srv/app": "65532:65532 0755", "/data": "65532:65532 0755",
			"/var": "0:0 0755", "/var/cache": "0:0 0755", "/var/cache/app": "65532:65532 0755",
		},
	}
	for layer, entries := range want {
		hdrs := layerHeaders(t, img, layer)
		for p, w := range entries {
			h := hdrs[p]
			if h == nil {
				t.Errorf("layer %d has no %s", layer, p)
				continue
			}
			if got := fmt.Sprintf("%d:%d %04o", h.Uid, h.Gid, h.Mode&0o7777); got != w {
				t.Errorf("layer %d: %s is %s, want %s", layer, p, got, w)
			}
			if !h.ModTime.Equal(img.Config.Created.UTC()) && h.Typeflag == tar.TypeDir {
				t.Errorf("layer %d: %s dated %v, not the epoch %v", layer, p, h.ModTime, img.Config.Created)
			}
		}
	}
}
