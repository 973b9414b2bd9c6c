package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// The README's commands run without a warning from BuildKit: the platforms
// the client asked for (or, asking for none, the daemon's default one) are
// the platforms of the result, and a multi-platform binaries build is a
// multi-platform result that the local exporter splits into
// <os>_<arch>[_<variant>]/ directories.

var warnLine = regexp.MustCompile(`(?m)^.*WARN.*$`)

// noWarnings fails the test on each WARN line of a client's progress output.
func noWarnings(t *testing.T, out string) {
	t.Helper()
	for _, w := range warnLine.FindAllString(out, -1) {
		t.Errorf("the client warned: %s", w)
	}
}

// TestBuildxNoWarnings builds examples/hello (its spec lists two
// platforms) as the README documents it. The copy has no .git, so VERSION
// is passed, as the README says, or the frontend rightly warns that
// {{.Version}} is "dev".
func TestBuildxNoWarnings(t *testing.T) {
	dir := specWithSyntax(t, "../examples/hello")
	build := func(t *testing.T, args ...string) string {
		t.Helper()
		args = append(append([]string{"build", "-f", "gobuild.yaml", "--build-context", goContext(), "--build-arg", "VERSION=v1.0.0"}, args...), ".")
		out, err := buildx(t, dir, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		noWarnings(t, out)
		return out
	}
	t.Run("image without --platform", func(t *testing.T) {
		build(t, "--output", "type=oci,dest=none.tar")
		if images := readImagesFile(t, filepath.Join(dir, "none.tar")); len(images) != 1 || images["linux/"+runtime.GOARCH] == nil {
			t.Errorf("images %v, want the default platform linux/%s alone", keys(images), runtime.GOARCH)
		}
	})
	t.Run("image with --platform", func(t *testing.T) {
		build(t, "--platform", "linux/amd64,linux/arm64", "--output", "type=oci,dest=two.tar")
		if images := readImagesFile(t, filepath.Join(dir, "two.tar")); len(images) != 2 {
			t.Errorf("images %v, want linux/amd64 and linux/arm64", keys(images))
		}
	})
	t.Run("buildctl without platform", func(t *testing.T) {
		oci := filepath.Join(t.TempDir(), "buildctl.tar")
		out, err := exec.Command(filepath.Join(bed.Bin, "buildctl"), "--addr", bed.Addr, "build", "--progress", "plain",
			"--frontend", "gateway.v0", "--opt", "source="+frontendImageRef(t), "--opt", "filename=gobuild.yaml",
			"--opt", "build-arg:VERSION=v1.0.0", "--opt", "context:"+goContext(),
			"--local", "context="+dir, "--local", "dockerfile="+dir, "--output", "type=oci,dest="+oci).CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		noWarnings(t, string(out))
		if images := readImagesFile(t, oci); len(images) != 1 {
			t.Errorf("images %v, want the default platform alone", keys(images))
		}
	})
	t.Run("binaries for two platforms", func(t *testing.T) {
		build(t, "--target", "binaries", "--platform", "linux/amd64,linux/arm64", "--output", "type=local,dest=bin2")
		wantFiles(t, filepath.Join(dir, "bin2"), "linux_amd64/hello", "linux_arm64/hello")
	})
	t.Run("binaries for one platform", func(t *testing.T) {
		build(t, "--target", "binaries", "--platform", "linux/arm64", "--output", "type=local,dest=bin1")
		wantFiles(t, filepath.Join(dir, "bin1"), "linux_arm64/hello")
	})
}

// wantFiles fails unless the regular files under dir are exactly files.
func wantFiles(t *testing.T, dir string, files ...string) {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(files) {
		t.Fatalf("files %q, want %q", got, files)
	}
	for i := range got {
		if got[i] != files[i] {
			t.Fatalf("files %q, want %q", got, files)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestInProcessNoWarnings: the frontend run in-process, as the gobuild CLI
// runs it, is told of no mismatch either, and the binaries land where
// documented.
func TestInProcessNoWarnings(t *testing.T) {
	dir := copyDir(t, "../examples/hello")
	for _, c := range []struct {
		name     string
		platform string
		files    []string // nil: the image
	}{
		{"image without platform", "", nil},
		{"binaries for two platforms", "linux/amd64,linux/arm64", []string{"linux_amd64/hello", "linux_arm64/hello"}},
		{"binaries for one platform", "linux/arm64", []string{"linux_arm64/hello"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := testenv.BuildOpts{Attrs: map[string]string{"build-arg:VERSION": "v1.0.0"}}
			if c.platform != "" {
				opt.Attrs["platform"] = c.platform
			}
			if c.files != nil {
				opt.Attrs["target"] = "binaries"
				opt.LocalOutput = t.TempDir()
			}
			res, err := bed.Build(context.Background(), dir, opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range res.Warnings {
				t.Errorf("warned: %s", w.Short)
			}
			if c.files != nil {
				wantFiles(t, opt.LocalOutput, c.files...)
			}
		})
	}
}
