package integration

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gbllb "github.com/gobuildkit/gobuild/llb"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// TestGitChangeKeepsBuildCached: a new commit that leaves the sources as
// they were re-runs no go command; .git is outside the build's view.
func TestGitChangeKeepsBuildCached(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	git := gitIn(t, dir)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	// VERSION is given, so the build has no reason to read git history.
	opts := testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64", "build-arg:VERSION": "v1", "vcs:revision": "fixed"}}
	if _, err := bed.Build(context.Background(), dir, opts); err != nil {
		t.Fatal(err)
	}
	git("commit", "-q", "--allow-empty", "-m", "second")
	if err := os.WriteFile(filepath.Join(dir, ".git", "description"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{gbllb.StepModDownload, gbllb.StepGoBuild("linux/amd64", "./cmd/server"), gbllb.StepGoBuild("linux/amd64", "./cmd/worker")} {
		if v := vertex(t, res, name); !v.Cached {
			t.Errorf("%s ran again after a change to .git alone", name)
		}
	}
}

// TestDocsChangeKeepsBuildCached: go build sees only the files the go
// command reads, //go:embed targets included, so editing docs leaves it
// cached while editing an embedded file rebuilds and ships the new text.
// (Every binary shares one source tree, so the worker's step re-runs too;
// Go's build cache makes that a link.)
func TestDocsChangeKeepsBuildCached(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	binaries := func() (*testenv.BuildResult, string) {
		t.Helper()
		out := t.TempDir()
		opts := testenv.BuildOpts{
			Attrs:       map[string]string{"platform": "linux/amd64", "target": "binaries", "build-arg:VERSION": "v1"},
			LocalOutput: out,
		}
		res, err := bed.Build(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res, runBinary(t, nil, filepath.Join(out, "linux_amd64", "server"), "greet")
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	server, worker := gbllb.StepGoBuild("linux/amd64", "./cmd/server"), gbllb.StepGoBuild("linux/amd64", "./cmd/worker")

	if _, out := binaries(); out != "hello from an embedded file\n<p>embedded tree</p>" {
		t.Fatalf("server greet printed %q; the embedded files did not reach the build", out)
	}

	write("docs/README.md", "# twobins\n\nRewritten.\n")
	write("NOTES.txt", "a file nothing reads\n")
	res, _ := binaries()
	for _, name := range []string{server, worker} {
		if !vertex(t, res, name).Cached {
			t.Errorf("%s ran again after a change to docs alone", name)
		}
	}

	write("cmd/server/greeting.txt", "changed greeting\n")
	res, out := binaries()
	if vertex(t, res, server).Cached {
		t.Errorf("%s stayed cached after its embedded file changed", server)
	}
	if out != "changed greeting\n<p>embedded tree</p>" {
		t.Errorf("server greet printed %q after the edit", out)
	}
}

// TestDependencyAddedFetchesOnlyIt: adding a requirement to go.mod re-runs
// go mod download, which fetches the new module alone; the ones already in
// the module cache mount are not fetched again. The modules come from a
// proxy on loopback that records what it serves, under a path of their own
// per run, so no earlier run has them in the cache.
func TestDependencyAddedFetchesOnlyIt(t *testing.T) {
	app := newAddedDependencyApp(t, "dep")
	opts := testenv.BuildOpts{Attrs: app.attrs}
	if res, err := bed.Build(context.Background(), app.dir, opts); err != nil {
		t.Fatalf("%v\n%s", err, res.Logs)
	}
	alpha, beta := app.alpha, app.beta
	if got, want := app.proxy.zipsServed(), []string{"/" + alpha.path + "/@v/v1.0.0.zip"}; !slices.Equal(got, want) {
		t.Fatalf("first build fetched %q, want %q", got, want)
	}

	app.addBeta(t)
	res, err := bed.Build(context.Background(), app.dir, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Logs)
	}
	if vertex(t, res, gbllb.StepModDownload).Cached {
		t.Fatal("go mod download stayed cached after go.mod changed")
	}
	if got, want := app.proxy.zipsServed(), []string{"/" + beta.path + "/@v/v1.0.0.zip"}; !slices.Equal(got, want) {
		t.Errorf("after adding %s the build fetched %q, want only %q", beta.path, got, want)
	}
}

// addedDependencyApp is a module whose app requires alpha, built through
// a module proxy on loopback that also serves beta, which addBeta adds as
// a developer does. The modules' paths are new on every run, so that no
// earlier run has them in a cache.
type addedDependencyApp struct {
	dir         string
	alpha, beta proxiedModule
	proxy       *moduleProxy
	// attrs build it for linux/amd64 through the proxy.
	attrs map[string]string
}

func newAddedDependencyApp(t *testing.T, name string) *addedDependencyApp {
	t.Helper()
	prefix := fmt.Sprintf("example.com/%s%d", name, time.Now().UnixNano())
	app := &addedDependencyApp{dir: t.TempDir(), alpha: depModule(t, prefix+"/alpha"), beta: depModule(t, prefix+"/beta")}
	app.proxy = startModuleProxy(t, false, app.alpha, app.beta)
	app.attrs = map[string]string{"platform": "linux/amd64", "build-arg:TEST_GOPROXY": app.proxy.url}
	writeFiles(t, app.dir, map[string]string{
		"gobuild.yaml":    "version: 1\ngoproxy: \"{{.Args.TEST_GOPROXY}}\"\ngonosumdb: " + prefix + "\nbinaries:\n  - package: ./cmd/app\nimage:\n  base: scratch\n",
		"go.mod":          "module example.com/app\n\ngo 1.26\n\nrequire " + app.alpha.path + " v1.0.0\n",
		"go.sum":          goSumLines(t, app.alpha),
		"cmd/app/main.go": "package main\n\nimport \"" + app.alpha.path + "\"\n\nfunc main() { println(alpha.Name(), more) }\n\nvar more string\n",
	})
	return app
}

// addBeta requires beta in go.mod and go.sum and imports it: the app then
// prints "alpha beta".
func (app *addedDependencyApp) addBeta(t *testing.T) {
	t.Helper()
	appendTo(t, filepath.Join(app.dir, "go.mod"), "require "+app.beta.path+" v1.0.0\n")
	appendTo(t, filepath.Join(app.dir, "go.sum"), goSumLines(t, app.beta))
	writeFiles(t, app.dir, map[string]string{"cmd/app/beta.go": "package main\n\nimport \"" + app.beta.path + "\"\n\nfunc init() { more = beta.Name() }\n"})
}

// depModule writes a one-package module at path v1.0.0 whose Name returns
// its last path element.
func depModule(t *testing.T, path string) proxiedModule {
	t.Helper()
	dir := t.TempDir()
	name := path[strings.LastIndex(path, "/")+1:]
	for file, content := range map[string]string{
		"go.mod":     "module " + path + "\n\ngo 1.21\n",
		name + ".go": "package " + name + "\n\nfunc Name() string { return \"" + name + "\" }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return proxiedModule{dir: dir, path: path, version: "v1.0.0"}
}

// goSumLines returns m's go.sum entries: the hash of its zip and of its
// go.mod, as the go command computes them.
func goSumLines(t *testing.T, m proxiedModule) string {
	t.Helper()
	zipFile := filepath.Join(t.TempDir(), "m.zip")
	f, err := os.Create(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(f, module.Version{Path: m.path, Version: m.version}, m.dir); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	zipHash, err := dirhash.HashZip(zipFile, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	goMod := filepath.Join(m.dir, "go.mod")
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return os.Open(goMod) })
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", m.path, m.version, zipHash, m.path, m.version, modHash)
}
