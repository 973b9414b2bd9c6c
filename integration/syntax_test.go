package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
)

// TestSyntaxDirective goes the way users do: the frontend image is built
// from the project's Dockerfile and pushed, a spec names it on its
// "# syntax=" line, and BuildKit's Dockerfile frontend hands the build to it.
func TestSyntaxDirective(t *testing.T) {
	ctx := context.Background()
	frontendImage := bed.Registry + "/gobuild:test"
	buildFrontendImage(t, ctx, frontendImage)

	dir := copyDir(t, "testdata/twobins")
	spec, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	spec = append([]byte("# syntax="+frontendImage+"\n"), spec...)
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := build(ctx, dir, buildOpts{frontend: "dockerfile.v0", attrs: map[string]string{
		"filename":          "gobuild.yaml",
		"platform":          "linux/amd64",
		"build-arg:VERSION": "v9.9.9",
	}})
	if err != nil {
		t.Fatal(err)
	}
	images, err := res.layout.images()
	if err != nil {
		t.Fatal(err)
	}
	img := images["linux/amd64"]
	if img == nil {
		t.Fatalf("no linux/amd64 image: %v", slices.Sorted(mapsKeys(images)))
	}
	if !slices.Equal(img.config.Config.Entrypoint, []string{"/usr/local/bin/server"}) {
		t.Errorf("entrypoint = %q", img.config.Config.Entrypoint)
	}
	server := writeExecutable(t, img.files["/usr/local/bin/server"])
	if out := runBinary(t, nil, server, "version"); !strings.HasPrefix(out, "server v9.9.9 ") {
		t.Errorf("server version = %q", out)
	}
}

// buildFrontendImage builds the repository's Dockerfile with BuildKit's own
// Dockerfile frontend and pushes the result.
func buildFrontendImage(t *testing.T, ctx context.Context, ref string) {
	t.Helper()
	c, err := bed.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := fsutil.NewFS(root)
	if err != nil {
		t.Fatal(err)
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
		t.Fatalf("building the frontend image from the Dockerfile: %v", err)
	}
}
