package integration

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	gbllb "github.com/gobuildkit/gobuild/llb"
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
			res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{})
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
			for _, v := range res.Vertices {
				if strings.HasPrefix(v.Name, "go ") {
					t.Errorf("step %q ran for a broken spec", v.Name)
				}
			}
		})
	}
}

// TestMissingPackageFailsAtBinary: a package that does not exist fails
// before anything compiles, and the error points at the binary's entry.
func TestMissingPackageFailsAtBinary(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	spec := "version: 1\nbinaries:\n  - package: ./cmd/server\n  - package: ./cmd/missing\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
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

// TestLibraryPackageRejected: a binary's package must be a main package.
func TestLibraryPackageRejected(t *testing.T) {
	dir := copyDir(t, "../examples/tested")
	spec := "version: 1\nbinaries:\n  - package: ./cmd/calc\n  - package: ./calc\n    name: lib\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	if err == nil || !strings.Contains(err.Error(), "gobuild.yaml:4:14: binaries[1].package ./calc: is package calc, not a main package") {
		t.Fatalf("error = %v", err)
	}
}

// TestGoBuildFailurePointsAtBinary: a compile error fails the go build
// step, and the error carries the binary's lines of the spec.
func TestGoBuildFailurePointsAtBinary(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	if err := os.WriteFile(filepath.Join(dir, "cmd", "worker", "broken.go"), []byte("package main\n\nfunc broken() { undefinedThing() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	if err == nil {
		t.Fatal("the build succeeded")
	}
	var lines []int32
	for _, src := range errdefs.Sources(err) {
		if src.Info.Filename != "gobuild.yaml" {
			continue
		}
		for _, r := range src.Ranges {
			lines = append(lines, r.Start.Line)
		}
	}
	// binaries[1] (worker) starts on line 5 of testdata/twobins/gobuild.yaml.
	if !slices.Contains(lines, 5) {
		t.Errorf("error points at spec lines %v, want 5; error: %v", lines, err)
	}
}

// TestEveryMistakeInOneRound: a package that is not main and templates
// that read build-args nobody passed fail one build together, each at its
// line, before anything compiles: three mistakes, one round.
func TestEveryMistakeInOneRound(t *testing.T) {
	dir := copyDir(t, "../examples/tested")
	spec := `version: 1
binaries:
  - package: ./cmd/calc
    ldflags: ["-X main.version={{.Args.RELEASE}}"]
  - package: ./calc
    name: lib
image:
  labels:
    channel: "{{.Args.CHANNEL}}"
    optional: '{{arg "FLAVOUR" | default "plain"}}'
`
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64,linux/arm64"}})
	if err == nil {
		t.Fatal("the build succeeded")
	}
	for _, want := range []string{
		"gobuild.yaml:5:14: binaries[1].package ./calc: is package calc, not a main package",
		`gobuild.yaml:4:15: invalid template: 1:23: executing "" at <.Args.RELEASE>: map has no entry for key "RELEASE"`,
		`gobuild.yaml:9:14: invalid template: 1:7: executing "" at <.Args.CHANNEL>: map has no entry for key "CHANNEL"`,
	} {
		if strings.Count(err.Error(), want) != 1 {
			t.Errorf("error does not say once %q:\n%v", want, err)
		}
	}
	var lines []int32
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			lines = append(lines, r.Start.Line)
		}
	}
	slices.Sort(lines)
	if !slices.Equal(lines, []int32{4, 5, 9}) {
		t.Errorf("error points at lines %v, want 4, 5 and 9", lines)
	}
	for _, v := range res.Vertices {
		if strings.HasPrefix(v.Name, "go ") {
			t.Errorf("step %q ran for a broken spec", v.Name)
		}
	}
}

// TestMinorLineBuilder: go.mod's go line names a minimum (go 1.26.0), and
// the build uses the newest release of that line, golang:1.26 (here the
// test bed's, through the named context), not a frozen golang:1.26.0.
func TestMinorLineBuilder(t *testing.T) {
	dir := copyDir(t, "../examples/hello")
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := bed.Build(context.Background(), dir, testenv.BuildOpts{LocalOutput: out, Attrs: map[string]string{"platform": "linux/amd64", "target": "spec"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "gobuild.resolved.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	resolved := string(data)
	for _, want := range []string{`go: "1.26" # from go.mod's go 1.26.0; the newest 1.26 release`, "builder: golang:1.26\n"} {
		if !strings.Contains(resolved, want) {
			t.Errorf("resolved spec lacks %q:\n%s", want, resolved)
		}
	}
	if _, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}}); err != nil {
		t.Fatalf("building with go 1.26.0 in go.mod: %v", err)
	}
}

// TestOldestBuilderCompilesHelper: a module whose go.mod says go 1.21, as
// many real ones do, gets golang:1.21, whose go compiles gobuild's helper
// when the frontend runs without its image (as here, and in the gobuild
// CLI). A Go older than the helper needs is refused before any step, with
// the fix, instead of failing in the helper's step with a compile error.
func TestOldestBuilderCompilesHelper(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ goLine, release, wantErr string }{
		{"1.21", "1.21.13", ""},
		{"1.20", "1.20.14", `the builder golang:1.20 (from go.mod's go 1.20; the newest 1.20 release) has Go 1.20.14, and gobuild's helper, which this builder compiles (gobuild's frontend image brings it prebuilt), needs Go 1.21 or newer; set go: "1.21"`},
	} {
		t.Run(tc.goLine, func(t *testing.T) {
			ref := fmt.Sprintf("%s/golang:%s-helper-test", bed.Registry, tc.release)
			if err := bed.PushToolchain(ctx, ref, tc.release, []string{"linux/amd64"}, t.Logf); err != nil {
				t.Fatal(err)
			}
			dir := copyDir(t, "../examples/hello")
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo "+tc.goLine+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			opt := testenv.BuildOpts{Attrs: map[string]string{
				"platform":                    "linux/amd64",
				"build-arg:VERSION":           "v1.0.0",
				"context:golang:" + tc.goLine: "docker-image://" + ref,
			}}
			res, err := bed.Build(ctx, dir, opt)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				for _, v := range res.Vertices {
					if strings.Contains(v.Name, gbllb.StepHelper) || strings.HasPrefix(v.Name, "go ") {
						t.Errorf("step %q ran", v.Name)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			images, err := res.Layout.Images()
			if err != nil {
				t.Fatal(err)
			}
			binary := images["linux/amd64"].Files["/usr/local/bin/hello"]
			if binary == nil {
				t.Fatal("no /usr/local/bin/hello in the image")
			}
			info, err := buildinfo.Read(bytes.NewReader(binary.Data))
			if err != nil {
				t.Fatal(err)
			}
			if info.GoVersion != "go"+tc.release {
				t.Errorf("built with %s, want go%s", info.GoVersion, tc.release)
			}
			if out := runBinary(t, nil, writeExecutable(t, binary), "-version"); out != "hello v1.0.0" {
				t.Errorf("hello -version = %q", out)
			}
		})
	}
}

// TestGoModNewerThanBuilder: a go.mod that needs a newer Go than the
// builder has fails before any step, naming go.mod's line and the fix,
// instead of with go's own message pointing at the spec's first line.
func TestGoModNewerThanBuilder(t *testing.T) {
	dir := copyDir(t, "../examples/hello")
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := "version: 1\nbuilder: golang:1.26\nbinaries:\n  - package: ./cmd/hello\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	want := "gobuild.yaml:2:10: go.mod:3: go 1.99 needs Go 1.99 or newer, and the builder golang:1.26 has Go " + bed.GoVersion
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `set builder: to an image with Go 1.99 or newer (or go: "1.99")`) {
		t.Fatalf("error = %v, want %q and the fix", err, want)
	}
	for _, v := range res.Vertices {
		if strings.HasPrefix(v.Name, "go ") {
			t.Errorf("step %q ran", v.Name)
		}
	}
}

// TestModuleRootBinaryNamedByModulePath: a main package at the module root
// needs no name: go.mod's module path gives it, as go build names it.
func TestModuleRootBinaryNamedByModulePath(t *testing.T) {
	dir := copyDir(t, "../examples/hello")
	if err := os.Rename(filepath.Join(dir, "cmd", "hello", "main.go"), filepath.Join(dir, "main.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/greeter/v2\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte("version: 1\nbinaries:\n  - package: .\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})["linux/amd64"]
	if img.Files["/usr/local/bin/greeter"] == nil || !slices.Equal(img.Config.Config.Entrypoint, []string{"/usr/local/bin/greeter"}) {
		t.Errorf("entrypoint %q; want /usr/local/bin/greeter in the image", img.Config.Config.Entrypoint)
	}
}

// TestDownloadFailurePointsAtGoMod: a download that fails shows what
// decides it, the spec's goproxy and go.mod's require lines, not the
// spec's first line.
func TestDownloadFailurePointsAtGoMod(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	goMod := "module example.com/twobins\n\ngo 1.26\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\texample.com/missing v1.0.0\n)\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := "version: 1\ngoproxy: \"off\"\nbinaries:\n  - package: ./cmd/server\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	if err == nil {
		t.Fatal("the build succeeded")
	}
	lines := map[string][]int32{}
	for _, src := range errdefs.Sources(err) {
		for _, r := range src.Ranges {
			lines[src.Info.Filename] = append(lines[src.Info.Filename], r.Start.Line)
		}
	}
	if !slices.Contains(lines["gobuild.yaml"], 2) || slices.Contains(lines["gobuild.yaml"], 1) {
		t.Errorf("gobuild.yaml lines %v, want goproxy's (2) and not the first", lines["gobuild.yaml"])
	}
	if !slices.Contains(lines["go.mod"], 6) || !slices.Contains(lines["go.mod"], 7) {
		t.Errorf("go.mod lines %v, want the require lines 6 and 7; error: %v", lines["go.mod"], err)
	}
}
