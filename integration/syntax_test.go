package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gbllb "github.com/gobuildkit/gobuild/llb"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/tonistiigi/fsutil"
)

// TestSyntaxDirective goes the way users do: the frontend image is built
// from the project's Dockerfile and pushed, a spec names it on its
// "# syntax=" line, and BuildKit's Dockerfile frontend hands the build to it.
func TestSyntaxDirective(t *testing.T) {
	dir := specWithSyntax(t, "testdata/twobins")
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Frontend: "dockerfile.v0", Attrs: map[string]string{
		"filename":          "gobuild.yaml",
		"platform":          "linux/amd64",
		"build-arg:VERSION": "v9.9.9",
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The frontend image holds the helper: nothing compiles it, and the
	// steps that run it ran.
	if _, err := res.Vertex(gbllb.StepHelper); err == nil {
		t.Errorf("a step compiled the helper, which the frontend image holds")
	}
	for _, step := range []string{gbllb.StepModcachePartition, gbllb.StepGoBuild("linux/amd64", "./cmd/server")} {
		if v, err := res.Vertex(step); err != nil || v.Error != "" {
			t.Errorf("step %q: %v %v", step, err, v)
		}
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	img := images["linux/amd64"]
	if img == nil {
		t.Fatalf("no linux/amd64 image: %v", slices.Sorted(mapsKeys(images)))
	}
	if !slices.Equal(img.Config.Config.Entrypoint, []string{"/usr/local/bin/server"}) {
		t.Errorf("entrypoint = %q", img.Config.Config.Entrypoint)
	}
	server := writeExecutable(t, img.Files["/usr/local/bin/server"])
	if out := runBinary(t, nil, server, "version"); !strings.HasPrefix(out, "server v9.9.9 ") {
		t.Errorf("server version = %q", out)
	}
}

// TestSyntaxDirectiveBadSpec: through the # syntax= forwarding, a broken
// spec still fails with its file, line and source attached for the client
// to print.
func TestSyntaxDirectiveBadSpec(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	spec := "# syntax=" + frontendImageRef(t) + "\nversion: 1\nbinaries:\n  - pakage: ./cmd/server\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Frontend: "dockerfile.v0", Attrs: map[string]string{"filename": "gobuild.yaml"}})
	if err == nil {
		t.Fatal("the build succeeded")
	}
	if !strings.Contains(err.Error(), `gobuild.yaml:4:5: unknown field "pakage" in binaries[0]; did you mean "package"?`) {
		t.Errorf("error = %v", err)
	}
	sources := errdefs.Sources(err)
	if len(sources) == 0 || sources[0].Info.Filename != "gobuild.yaml" || sources[0].Ranges[0].Start.Line != 4 {
		t.Fatalf("sources = %v", sources)
	}
	// What buildx prints under the error: the offending line of the spec.
	var printed bytes.Buffer
	if err := sources[0].Print(&printed); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(printed.String(), "pakage: ./cmd/server") {
		t.Errorf("printed source:\n%s", printed.String())
	}
}

var (
	frontendOnce sync.Once
	frontendRef  string
	frontendErr  error
)

// frontendImageRef builds the frontend image once per test run.
func frontendImageRef(t *testing.T) string {
	t.Helper()
	frontendOnce.Do(func() {
		ref := bed.Registry + "/gobuild:test"
		frontendErr = buildFrontendImage(context.Background(), ref)
		frontendRef = ref
	})
	if frontendErr != nil {
		t.Fatal(frontendErr)
	}
	return frontendRef
}

// buildFrontendImage builds the repository's Dockerfile with BuildKit's own
// Dockerfile frontend and pushes the result.
func buildFrontendImage(ctx context.Context, ref string) error {
	c, err := bed.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	fs, err := fsutil.NewFS(root)
	if err != nil {
		return err
	}
	_, err = c.Solve(ctx, nil, client.SolveOpt{
		Frontend: "dockerfile.v0",
		FrontendAttrs: map[string]string{
			"filename":            "Dockerfile",
			"context:golang:1.26": "docker-image://" + bed.GoImage,
		},
		LocalMounts: map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		Exports: []client.ExportEntry{{
			Type:  client.ExporterImage,
			Attrs: map[string]string{"name": ref, "push": "true", "registry.insecure": "true"},
		}},
	}, nil)
	if err != nil {
		return fmt.Errorf("building the frontend image from the Dockerfile: %w", err)
	}
	return nil
}
