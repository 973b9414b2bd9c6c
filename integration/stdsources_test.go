package integration

import (
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

// TestReachedSourcesFollowToolchainTags: with a cache imported, go build
// reads only the standard packages its binary reaches. A file built under
// a tag only the builder's toolchain sets (the architecture level) brings
// compress/bzip2: the frontend counts that file's imports too, or go build
// would find no compress/bzip2 in its src.
func TestReachedSourcesFollowToolchainTags(t *testing.T) {
	dir := copyDir(t, "testdata/toolchaintags")
	cache := map[string]string{"ref": bed.Registry + "/cache:toolchaintags", "registry.insecure": "true"}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{
		Attrs:        map[string]string{"platform": "linux/amd64,linux/arm64"},
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Logs)
	}
	// One layer of sources for both platforms' go builds.
	if log, err := res.StepLog(gbllb.StepReachedSources); err != nil || !strings.Contains(string(log), "directories of the standard library kept") {
		t.Fatalf("no step made the reached sources (%v):\n%s", err, log)
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		if images[platform] == nil || images[platform].Files["/usr/local/bin/tagged"] == nil {
			t.Fatalf("no binary for %s", platform)
		}
	}
	bin := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/tagged"])
	if out := runBinary(t, nil, bin); !strings.HasPrefix(out, "bzip2: ") {
		t.Errorf("the binary printed %q, want the file built for the architecture level", out)
	}
}

// TestStandardImportAddedOnFreshBuilder: hosted CI after an edit that
// imports another standard package, go.mod unchanged. The new daemon makes
// the reached sources again; its module cache is empty (go mod download
// came from the cache), so go list fetches the modules' packages, as go
// build does, rather than keep every standard package.
func TestStandardImportAddedOnFreshBuilder(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	fresh := startFreshDaemon(t, "std-import-fresh")
	main := filepath.Join(dir, "cmd", "server", "main.go")
	addImport := func() {
		data, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(data), "import (\n", "import (\n\t_ \"encoding/xml\"\n", 1)
		if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	attrs := map[string]string{"platform": "linux/amd64", "build-arg:VERSION": "v1"}
	_, res := ciRebuild(t, dir, fresh, bed.Registry+"/cache:std-import", attrs, addImport)
	if !reportedCached(res, gbllb.StepModDownload) {
		t.Fatalf("go mod download ran again, with go.mod unchanged")
	}
	log, err := res.StepLog(gbllb.StepReachedSources)
	if err != nil || vertex(t, res, gbllb.StepReachedSources).Cached {
		t.Fatalf("the new daemon did not make the reached sources again (%v)", err)
	}
	if bytes.Contains(log, []byte("every standard package is kept")) || !bytes.Contains(log, []byte("directories of the standard library kept")) {
		t.Errorf("the reached sources were not listed:\n%s", log)
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	bin := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/server"])
	if out := runBinary(t, nil, bin, "version"); !strings.HasPrefix(out, "server v1 ") {
		t.Errorf("server version = %q, want v1", out)
	}
}

// TestModulePackageAddedOnBuilderThatImported: go indexes a module of the
// module cache once, by its path, and trusts that index from then on. go
// build reads its modules from a layer of only the packages the build
// reaches, at the module cache's path; had it indexed that layer into the
// build cache it keeps, the next build importing another package of the
// same module would find no such package. A new daemon imports the cache
// and rebuilds after an edit (its go build the first to load the module
// there), then builds an import of go-cmp's cmpopts, which nothing reached
// before.
func TestModulePackageAddedOnBuilderThatImported(t *testing.T) {
	dir := copyDir(t, "testdata/moduleindex")
	fresh := startFreshDaemon(t, "module-index")
	main := filepath.Join(dir, "cmd", "app", "main.go")
	attrs := map[string]string{"platform": "linux/amd64"}
	ref := bed.Registry + "/cache:module-index"
	_, res := ciRebuild(t, dir, fresh, ref, attrs, editOf(t, main))
	if !reportedCached(res, gbllb.StepReachedSources) {
		t.Fatalf("the new daemon made the reached sources itself; the test needs them from the cache")
	}
	data, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "\"github.com/google/go-cmp/cmp\"\n", "\"github.com/google/go-cmp/cmp\"\n\t\"github.com/google/go-cmp/cmp/cmpopts\"\n", 1)
	edited = strings.Replace(edited, "[]int{1, 2}, []int{1, 2})", "[]int{}, []int(nil), cmpopts.EquateEmpty())", 1)
	if edited == string(data) {
		t.Fatal("the fixture's main.go changed; the edit no longer applies")
	}
	if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := map[string]string{"ref": ref, "registry.insecure": "true"}
	res, err = bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: attrs, Addr: fresh,
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}}})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Logs)
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	bin := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/app"])
	if out := runBinary(t, nil, bin); out != "equal: true" {
		t.Errorf("the binary printed %q, want cmpopts' empty slices equal", out)
	}
}
