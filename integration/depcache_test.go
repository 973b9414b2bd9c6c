package integration

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/client"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// ciRebuild is hosted CI: the bed's daemon builds dir (its spec's binaries
// made verbose, so that go build -v names every package it compiles) and
// exports a registry cache to ref; edit changes the source; the daemon at
// fresh, whose state is empty, imports the cache and builds again. Both
// builds import and export the cache, as a CI job does on every run (the
// first import finds nothing). It returns both builds.
func ciRebuild(t *testing.T, dir, fresh, ref string, attrs map[string]string, edit func()) (first, again *testenv.BuildResult) {
	t.Helper()
	ctx := context.Background()
	specFile := filepath.Join(dir, "gobuild.yaml")
	spec, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	verbose := strings.ReplaceAll(string(spec), "  - package:", "  - flags: [-v]\n    package:")
	if err := os.WriteFile(specFile, []byte(verbose), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := map[string]string{"ref": ref, "registry.insecure": "true"}
	exportAttrs := map[string]string{"mode": "max", "ref": ref, "registry.insecure": "true"}
	first, err = bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs,
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}},
		CacheExports: []client.CacheOptionsEntry{{Type: "registry", Attrs: exportAttrs}}})
	if err != nil {
		t.Fatalf("%v\n%s", err, first.Logs)
	}
	edit()
	again, err = bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs, Addr: fresh,
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}}})
	if err != nil {
		t.Fatalf("%v\n%s", err, again.Logs)
	}
	return first, again
}

// editOf is an edit of file, as a change on CI makes.
func editOf(t *testing.T, file string) func() {
	return func() { appendTo(t, file, "\n// edited on CI\n") }
}

// startFreshDaemon starts a daemon with an empty state for the test.
func startFreshDaemon(t *testing.T, name string) string {
	t.Helper()
	addr := "unix://" + filepath.Join(bed.Dir, name+".sock")
	if err := bed.StartDaemon(context.Background(), name, addr, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bed.StopDaemon(name) })
	return addr
}

// TestCompiledDependenciesTravelWithRegistryCache: hosted CI. One daemon
// builds and exports a registry cache; a new daemon with an empty state
// imports it and rebuilds after an edit. go build -v names every package
// it compiles: on the new daemon that is the module's own packages only,
// no package of the standard library or of a dependency.
func TestCompiledDependenciesTravelWithRegistryCache(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	fresh := startFreshDaemon(t, "deps-fresh")
	const platform = "linux/amd64"
	attrs := map[string]string{"platform": platform, "build-arg:VERSION": "v1"}
	first, res := ciRebuild(t, dir, fresh, bed.Registry+"/cache:dependencies", attrs, editOf(t, filepath.Join(dir, "cmd", "server", "main.go")))
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
		// The module cache's layer holds what go build reads of uuid: go
		// downloads nothing, though the new daemon's module cache is empty.
		if bytes.Contains(log, []byte("go: downloading")) {
			t.Errorf("go build of %s downloaded modules on the new daemon:\n%s", pkg, log)
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

	builderNotPulled(t, res, "deps-fresh")
	// go build read only the standard packages the binaries reach, from
	// a layer in the cache: the new daemon never unpacked the whole src.
	if !reportedCached(res, gbllb.StepReachedSources) {
		t.Errorf("the new daemon made %q again", gbllb.StepReachedSources)
	}
	if trees, _ := filepath.Glob(filepath.Join(bed.Dir, "deps-fresh", "*", "snapshots", "snapshots", "*", "fs", "image", "gif")); len(trees) > 0 {
		t.Errorf("the new daemon unpacked the standard library's whole sources: %s", trees)
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

// The same on the shapes real repositories have: vendored modules (which
// the modules' layer compiles from vendor/, in go build's layout), a
// go.work member and a monorepo service whose libraries are local
// replacements. The new daemon compiles only the packages of the
// repository's own modules.
func TestDependencyLayersOnRepositoryShapes(t *testing.T) {
	fresh := startFreshDaemon(t, "deps-shapes")
	for _, tc := range []struct {
		fixture, edit string
		// local are the module paths whose packages go build compiles:
		// the repository's own.
		local []string
		// built is a package the edit must make go build compile.
		built string
	}{
		{"vendored", "cmd/hello/main.go", []string{"example.com/vendored"}, "example.com/vendored/cmd/hello"},
		{"workspace", "app/cmd/app/main.go", []string{"example.com/ws/"}, "example.com/ws/app/cmd/app"},
		{"monorepo", "services/api/cmd/api/main.go", []string{"example.com/monorepo/"}, "example.com/monorepo/services/api/cmd/api"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			dir := copyDir(t, filepath.Join("testdata", tc.fixture))
			attrs := map[string]string{"platform": "linux/amd64"}
			_, res := ciRebuild(t, dir, fresh, bed.Registry+"/cache:shapes-"+tc.fixture, attrs, editOf(t, filepath.Join(dir, tc.edit)))
			var log []byte
			for _, v := range res.Vertices {
				if strings.HasPrefix(v.Name, gbllb.StepGoBuildPrefix) && !v.Cached {
					l, err := res.StepLog(v.Name)
					if err != nil {
						t.Fatal(err)
					}
					log = l
				}
			}
			compiled := compiledPackages(log)
			if !slices.Contains(compiled, tc.built) {
				t.Fatalf("go build -v did not name %s; is the test still reading its output?\n%s", tc.built, log)
			}
			for _, p := range compiled {
				if !slices.ContainsFunc(tc.local, func(prefix string) bool { return strings.HasPrefix(p, prefix) }) {
					t.Errorf("the new daemon compiled %s, which the registry cache holds", p)
				}
			}
		})
	}
}

// builderNotPulled checks that the fresh daemon name took what res ran go
// on from the toolchain layer in the cache: it neither downloaded a layer
// of the builder image nor unpacked the Go distribution's parts the layer
// leaves out.
func builderNotPulled(t *testing.T, res *testenv.BuildResult, name string) {
	t.Helper()
	for _, step := range []string{gbllb.StepToolchain, gbllb.StepToolchainSources} {
		if !reportedCached(res, step) {
			t.Errorf("the new daemon ran %q again", step)
		}
	}
	state := filepath.Join(bed.Dir, name)
	for _, layer := range builderLayers(t) {
		blobs, _ := filepath.Glob(filepath.Join(state, "*", "content", "blobs", layer.Algorithm().String(), layer.Encoded()))
		if len(blobs) > 0 {
			t.Errorf("the new daemon downloaded the builder image's layer %s", layer)
		}
	}
	if trees, _ := filepath.Glob(filepath.Join(state, "*", "snapshots", "snapshots", "*", "fs", "usr", "local", "go", "src", "cmd")); len(trees) > 0 {
		t.Errorf("the new daemon unpacked the builder's whole Go distribution: %s", trees)
	}
}

// TestDependencyAddedOnFreshBuilder: hosted CI after a go.mod change. The
// new daemon runs go mod download, which the registry cache cannot
// answer, on the toolchain layer too: it fetches the added module through
// the proxy (over TLS, with the builder's CA bundle) and still pulls no
// builder image.
func TestDependencyAddedOnFreshBuilder(t *testing.T) {
	app := newAddedDependencyApp(t, "fresh")
	fresh := startFreshDaemon(t, "deps-added-fresh")
	_, res := ciRebuild(t, app.dir, fresh, bed.Registry+"/cache:dependency-added", app.attrs, func() { app.addBeta(t) })
	if reportedCached(res, gbllb.StepModDownload) {
		t.Fatal("go mod download stayed cached after go.mod changed")
	}
	if got := app.proxy.zipsServed(); !slices.Contains(got, "/"+app.beta.path+"/@v/v1.0.0.zip") {
		t.Errorf("the new daemon did not fetch %s: %q", app.beta.path, got)
	}
	builderNotPulled(t, res, "deps-added-fresh")
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	bin := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/app"])
	if out := runBinary(t, nil, bin); strings.TrimSpace(out) != "alpha beta" {
		t.Errorf("app printed %q, want \"alpha beta\"", out)
	}
}

// builderLayers are the layers of the bed's golang image, as its registry
// serves them.
func builderLayers(t *testing.T) []digest.Digest {
	t.Helper()
	repo, tag, _ := strings.Cut(strings.TrimPrefix(bed.GoImage, bed.Registry+"/"), ":")
	var m ocispecs.Manifest
	registryGet(t, repo, tag, ocispecs.MediaTypeImageManifest, &m)
	if len(m.Layers) == 0 {
		t.Fatalf("%s has no layers", bed.GoImage)
	}
	var layers []digest.Digest
	for _, l := range m.Layers {
		layers = append(layers, l.Digest)
	}
	return layers
}
