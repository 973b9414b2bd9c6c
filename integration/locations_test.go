package integration

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/moby/buildkit/solver/errdefs"
)

// sourceLines are the lines an error points at, by file.
func sourceLines(err error) map[string][]int32 {
	lines := map[string][]int32{}
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			lines[src.Info.Filename] = append(lines[src.Info.Filename], r.Start.Line)
		}
	}
	return lines
}

// noGoStep fails the test if a go command ran.
func noGoStep(t *testing.T, res *testenv.BuildResult) {
	t.Helper()
	if res == nil {
		return
	}
	for _, v := range res.Vertices {
		if strings.HasPrefix(v.Name, "go ") {
			t.Errorf("step %q ran", v.Name)
		}
	}
}

// TestClientPlatformChecked: --platform windows/amd64 fails as the spec's
// platforms: [windows/amd64] would, naming the option rather than a line
// of the spec, before anything is compiled.
func TestClientPlatformChecked(t *testing.T) {
	for _, platform := range []string{"windows/amd64", "linux/amd64,linux/sparc64"} {
		t.Run(platform, func(t *testing.T) {
			res, err := bed.Build(context.Background(), copyDir(t, "testdata/twobins"), testenv.BuildOpts{Attrs: map[string]string{"platform": platform}})
			if err == nil || !strings.Contains(err.Error(), "--platform: ") || !strings.Contains(err.Error(), "ask for linux platforms") {
				t.Fatalf("error = %v, want one naming --platform", err)
			}
			if lines := sourceLines(err); len(lines) > 0 {
				t.Errorf("error points at %v, not at the option", lines)
			}
			noGoStep(t, res)
		})
	}
}

// writeFiles writes files (by slash path) into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGoModSyntaxPointsAtGoMod: a go.mod that does not parse fails at its
// own line, shown from go.mod, not at a line of the spec.
func TestGoModSyntaxPointsAtGoMod(t *testing.T) {
	dir := copyDir(t, "../examples/hello")
	writeFiles(t, dir, map[string]string{"go.mod": "module example.com/hello\n\ngo 1.26\n\nrequre example.com/x v1.0.0\n"})
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	if err == nil || !strings.Contains(err.Error(), "go.mod:5: unknown directive: requre") {
		t.Fatalf("error = %v", err)
	}
	lines := sourceLines(err)
	if !slices.Equal(lines["go.mod"], []int32{5}) || len(lines["gobuild.yaml"]) > 0 {
		t.Errorf("error points at %v, want go.mod line 5 alone", lines)
	}
	noGoStep(t, res)
}

// filesSpec copies one src to /srv/static: its src is on line 7.
func filesSpec(src string) string {
	return "version: 1\nbinaries:\n  - package: ./cmd/site\nimage:\n  files:\n    - dst: /srv/static\n      src: " + src + "\n"
}

// TestFilesSrcChecked: an image.files src that is missing, or a symlink
// that leaves the context, fails at its spec line before anything runs,
// instead of with BuildKit's checksum error or a dangling link in the
// image; a symlink that stays inside is copied as what it names.
func TestFilesSrcChecked(t *testing.T) {
	cases := []struct {
		name, src, link, target, want string
	}{
		{"missing", "missing/logo.png", "", "", "gobuild.yaml:7:12: image.files[0].src: missing/logo.png is not in the build context"},
		{"absolute link", "public", "public", "/etc", "gobuild.yaml:7:12: image.files[0].src: public is a symlink to /etc, which leaves the build context"},
		{"link up", "public", "public", "../static", "gobuild.yaml:7:12: image.files[0].src: public is a symlink to ../static, which leaves the build context"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, "../examples/files")
			writeFiles(t, dir, map[string]string{"gobuild.yaml": filesSpec(tc.src)})
			if tc.link != "" {
				if err := os.Symlink(tc.target, filepath.Join(dir, tc.link)); err != nil {
					t.Fatal(err)
				}
			}
			res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if lines := sourceLines(err); !slices.Equal(lines["gobuild.yaml"], []int32{7}) {
				t.Errorf("error points at %v, want gobuild.yaml line 7", lines)
			}
			noGoStep(t, res)
		})
	}
	for src, file := range map[string]string{"site/public": "/srv/static/index.html", "site/public/robots.txt": "/srv/static"} {
		t.Run("link inside to "+src, func(t *testing.T) {
			dir := copyDir(t, "../examples/files")
			writeFiles(t, dir, map[string]string{"gobuild.yaml": filesSpec(src)})
			if err := os.MkdirAll(filepath.Join(dir, "site"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../static", filepath.Join(dir, "site", "public")); err != nil {
				t.Fatal(err)
			}
			img := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})["linux/amd64"]
			if f := img.Files[file]; f == nil || f.Hdr.Typeflag != tar.TypeReg {
				t.Errorf("%s = %v, want the file the link leads to", file, f)
			}
		})
	}
}

// TestCommandLineTooLong: ldflags that grow go build's command line past
// what Linux runs (each value under the 64 KiB a template may render)
// fail at their spec line, naming the limit, instead of
// with "argument list too long" from the go build step.
func TestCommandLineTooLong(t *testing.T) {
	dir := copyDir(t, "../examples/hello")
	spec := "version: 1\nbinaries:\n  - package: ./cmd/hello\n    ldflags:\n      - -X main.a={{.Args.BIG}}\n      - -X main.b={{.Args.BIG}}\n      - -X main.c={{.Args.BIG}}\n      - -X main.d={{.Args.BIG}}\n"
	writeFiles(t, dir, map[string]string{"gobuild.yaml": spec})
	attrs := map[string]string{"platform": "linux/amd64", "build-arg:BIG": strings.Repeat("x", 40<<10)}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: attrs})
	if err == nil || !strings.Contains(err.Error(), "gobuild.yaml:5:9: go build of binaries[0]: its command line and environment come to") || !strings.Contains(err.Error(), "limit of 131072") {
		t.Fatalf("error = %.500v", err)
	}
	if lines := sourceLines(err); !slices.Equal(lines["gobuild.yaml"], []int32{5}) {
		t.Errorf("error points at %v, want gobuild.yaml line 5", lines)
	}
	noGoStep(t, res)
}
