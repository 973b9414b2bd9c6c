package integration

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// TestZoneinfoTree: image.zoneinfotree ships the builder's zoneinfo.zip
// unpacked as /usr/share/zoneinfo, every zone byte for byte, root's and
// readable by all, for the programs that read the tree instead of the zip.
func TestZoneinfoTree(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	spec := "version: 1\nbinaries:\n  - package: ./cmd/server\nimage:\n  zoneinfotree: true\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	img := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/arm64"}})["linux/arm64"]
	if img == nil {
		t.Fatal("no linux/arm64 image")
	}
	// The test bed's builder image is this machine's Go.
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	zones := 0
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		got := img.Files[path.Join("/usr/share/zoneinfo", f.Name)]
		switch {
		case got == nil:
			t.Errorf("%s is not in the image", f.Name)
		case !bytes.Equal(got.Data, want):
			t.Errorf("%s differs from zoneinfo.zip's", f.Name)
		case got.Hdr.Uid != 0 || got.Hdr.Mode&0o777 != 0o644:
			t.Errorf("%s: uid %d mode %o, want root's 0644", f.Name, got.Hdr.Uid, got.Hdr.Mode&0o777)
		}
		zones++
	}
	if zones < 300 {
		t.Fatalf("zoneinfo.zip has %d zones", zones)
	}
	if dir := img.Files["/usr/share/zoneinfo/Europe"]; dir == nil || dir.Hdr.Mode&0o777 != 0o755 {
		t.Errorf("/usr/share/zoneinfo/Europe: %+v, want a 0755 directory", dir)
	}
	if img.Files["/usr/share/zoneinfo.zip"] == nil {
		t.Error("the zip Go's time package reads is gone")
	}
}
