package integration

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/client"
)

// TestCompiledDependenciesTravelWithRegistryCache: hosted CI. One daemon
// builds and exports a registry cache; a new daemon with an empty state
// imports it and rebuilds after an edit. go build -v names every package
// it compiles: on the new daemon that is the module's own packages only,
// no package of the standard library or of a dependency.
func TestCompiledDependenciesTravelWithRegistryCache(t *testing.T) {
	ctx := context.Background()
	dir := copyDir(t, "testdata/twobins")
	specFile := filepath.Join(dir, "gobuild.yaml")
	spec, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	verbose := strings.ReplaceAll(string(spec), "    ldflags:", "    flags: [-v]\n    ldflags:")
	if err := os.WriteFile(specFile, []byte(verbose), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := "unix://" + filepath.Join(bed.Dir, "deps-fresh.sock")
	if err := bed.StartDaemon(ctx, "deps-fresh", fresh, nil); err != nil {
		t.Fatal(err)
	}
	defer bed.StopDaemon("deps-fresh")

	const platform = "linux/amd64"
	cache := map[string]string{"ref": bed.Registry + "/cache:dependencies", "registry.insecure": "true"}
	exportAttrs := map[string]string{"mode": "max", "ref": cache["ref"], "registry.insecure": "true"}
	attrs := map[string]string{"platform": platform, "build-arg:VERSION": "v1"}
	first, err := bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs,
		CacheExports: []client.CacheOptionsEntry{{Type: "registry", Attrs: exportAttrs}}})
	if err != nil {
		t.Fatalf("%v\n%s", err, first.Logs)
	}
	// The two binaries' ldflags differ, so each has its go build and its
	// layers: the standard library's, and the server's modules'.
	binaries := []string{"./cmd/server", "./cmd/worker"}
	layerSteps := []string{gbllb.StepDependencies(platform, "./cmd/server")}
	for _, pkg := range binaries {
		layerSteps = append(layerSteps, gbllb.StepStdLayer(platform, pkg))
	}
	for _, name := range layerSteps {
		vertex(t, first, name)
	}

	server := filepath.Join(dir, "cmd", "server", "main.go")
	src, err := os.ReadFile(server)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(server, append(src, "\n// edited on CI\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs, Addr: fresh,
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}}})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Logs)
	}
	for _, name := range layerSteps {
		// A step found in the registry cache is reported cached, then
		// again while its layer is fetched; it never runs, so never prints.
		if log, err := res.StepLog(name); err != nil || len(log) > 0 || !reportedCached(res, name) {
			t.Errorf("the new daemon ran %q instead of taking its layer from the registry cache (%v):\n%s", name, err, log)
		}
	}
	for _, pkg := range binaries {
		build := gbllb.StepGoBuild(platform, pkg)
		if v := vertex(t, res, build); v.Cached {
			t.Fatalf("%s was not rebuilt after the edit", pkg)
		}
		log, err := res.StepLog(build)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(log, []byte("compiled dependency files copied in")) {
			t.Errorf("go build of %s did not copy the dependency layer into its cache:\n%s", pkg, log)
		}
		var own bool
		for _, p := range compiledPackages(log) {
			if !strings.HasPrefix(p, "example.com/twobins/") {
				t.Errorf("the new daemon compiled %s, which the registry cache holds", p)
			}
			own = own || p == "example.com/twobins"+strings.TrimPrefix(pkg, ".")
		}
		if !own {
			t.Fatalf("go build -v did not name %s; is the test still reading its output?\n%s", pkg, log)
		}
	}

	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	bin := writeExecutable(t, images[platform].Files["/usr/local/bin/server"])
	if out := runBinary(t, nil, bin, "version"); !strings.HasPrefix(out, "server v1 ") {
		t.Errorf("server version = %q, want v1", out)
	}
}

func reportedCached(res *testenv.BuildResult, name string) bool {
	for _, v := range res.Vertices {
		if v.Name == name && v.Cached {
			return true
		}
	}
	return false
}

// compiledPackages are the import paths go build -v printed in a step's
// log: each on a line of its own (BuildKit prefixes nothing).
func compiledPackages(log []byte) []string {
	var pkgs []string
	sc := bufio.NewScanner(bytes.NewReader(log))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "go: ") || strings.HasPrefix(line, "gobuild-helper:") || strings.ContainsAny(line, " \t:") {
			continue
		}
		pkgs = append(pkgs, line)
	}
	return pkgs
}
