package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/errdefs"
)

// TestBrokenSpecPointsAtLine: a bad spec fails before any build step, with
// the file and line in the message and as a source range buildx prints.
func TestBrokenSpecPointsAtLine(t *testing.T) {
	cases := []struct {
		name, spec string
		wantLine   int
		wantMsg    string
	}{
		{"unknown field", "version: 1\nbinaries:\n  - package: ./cmd/server\n    ldflag: [-X main.version=1]\n", 4, `unknown field "ldflag" in binaries[0]; did you mean "ldflags"?`},
		{"wrong type", "version: 1\nbinaries:\n  - package: ./cmd/server\nimage:\n  ports: 8080\n", 5, "image.ports must be a list"},
		{"missing binaries", "version: 1\nimage:\n  user: \"1000\"\n", 1, "binaries is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, "testdata/twobins")
			if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(tc.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := build(context.Background(), dir, buildOpts{})
			if err == nil {
				t.Fatal("the build succeeded")
			}
			if !strings.Contains(err.Error(), "gobuild.yaml:") || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not name gobuild.yaml and %q", err, tc.wantMsg)
			}
			sources := errdefs.Sources(err)
			if len(sources) == 0 {
				t.Fatalf("error carries no source: %v", err)
			}
			src := sources[0]
			if src.Info.Filename != "gobuild.yaml" || len(src.Ranges) == 0 || int(src.Ranges[0].Start.Line) != tc.wantLine {
				t.Errorf("source = %s %v, want line %d", src.Info.Filename, src.Ranges, tc.wantLine)
			}
			for _, v := range res.vertices {
				if strings.HasPrefix(v.Name, "go ") {
					t.Errorf("step %q ran for a broken spec", v.Name)
				}
			}
		})
	}
}

// TestMissingPackageFailsAtBinary: a package that does not exist fails the
// go build step, and the error points at the binary's entry in the spec.
func TestMissingPackageFailsAtBinary(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	spec := "version: 1\nbinaries:\n  - package: ./cmd/server\n  - package: ./cmd/missing\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := build(context.Background(), dir, buildOpts{attrs: map[string]string{"platform": "linux/amd64"}})
	if err == nil {
		t.Fatal("the build succeeded")
	}
	if !strings.Contains(err.Error(), "cmd/missing") {
		t.Errorf("error %q does not name the package", err)
	}
	var lines []int32
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			lines = append(lines, r.Start.Line)
		}
	}
	if len(lines) == 0 || lines[0] != 4 {
		t.Errorf("error points at lines %v, want 4", lines)
	}
}
