package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gobuildkit/gobuild/integration/testenv"
	gbllb "github.com/gobuildkit/gobuild/llb"
)

// buildAndRun builds the binaries target of the spec in dir for
// linux/amd64 and runs the binary named bin. It returns the build's
// result and what the binary printed.
func buildAndRun(t *testing.T, dir, bin string, attrs map[string]string) (*testenv.BuildResult, string) {
	t.Helper()
	out := t.TempDir()
	opts := testenv.BuildOpts{
		Attrs:       map[string]string{"platform": "linux/amd64", "target": "binaries"},
		LocalOutput: out,
	}
	for k, v := range attrs {
		opts.Attrs[k] = v
	}
	res, err := bed.Build(context.Background(), dir, opts)
	if err != nil {
		logs := ""
		if res != nil {
			logs = string(res.Logs)
		}
		t.Fatalf("build: %v\n%s", err, logs)
	}
	return res, runBinary(t, nil, filepath.Join(out, "linux_amd64", bin))
}

// TestVendoredBuildsOffline: a module with a consistent vendor/ builds with
// goproxy off, as go build does on a host without a network, and no go mod
// download step runs: vendored code needs nothing from the module cache.
func TestVendoredBuildsOffline(t *testing.T) {
	res, out := buildAndRun(t, copyDir(t, "testdata/vendored"), "hello", nil)
	if out != "hello from vendor" {
		t.Errorf("hello printed %q", out)
	}
	for _, name := range []string{gbllb.StepModDownload, gbllb.StepModDownloadToLayer} {
		if _, err := res.Vertex(name); err == nil {
			t.Errorf("a %q step ran for a vendored module", name)
		}
	}
}

// TestMonorepoReplaceBuilds: a service of a monorepo whose go.mod replaces
// its sibling modules with directories outside its own (../../lib) builds:
// go mod download sees their go.mod files where go.mod says they are.
func TestMonorepoReplaceBuilds(t *testing.T) {
	_, out := buildAndRun(t, copyDir(t, "testdata/monorepo"), "api", nil)
	if out != "api says proto/v1" {
		t.Errorf("api printed %q", out)
	}
}

// TestWorkspaceMemberBuilds: a member of a go.work workspace that requires
// another member (which no proxy serves, go.work resolves it) builds when
// go.work sits above the spec's module.
func TestWorkspaceMemberBuilds(t *testing.T) {
	_, out := buildAndRun(t, copyDir(t, "testdata/workspace"), "app", nil)
	if out != "workspace lib" {
		t.Errorf("app printed %q", out)
	}
}

// TestWorkspaceFetchesOnlyTheBinariesModules: in a workspace whose root
// module holds the binary, which needs alpha and imports the member lib
// (which needs gamma; the workspace resolves lib, go.mod does not require
// it), and whose other member needs beta, the build fetches alpha's zip
// (go mod download of the module's requirements) and gamma's (go build,
// through the module cache mount), never beta's. go mod download with no
// arguments would fetch every module of every member.
func TestWorkspaceFetchesOnlyTheBinariesModules(t *testing.T) {
	prefix := fmt.Sprintf("example.com/ws%d", time.Now().UnixNano())
	alpha, beta, gamma := depModule(t, prefix+"/alpha"), depModule(t, prefix+"/beta"), depModule(t, prefix+"/gamma")
	proxy := startModuleProxy(t, false, alpha, beta, gamma)

	dir := t.TempDir()
	for name, content := range map[string]string{
		"gobuild.yaml": "version: 1\ngoproxy: \"{{.Args.TEST_GOPROXY}}\"\ngonosumdb: " + prefix + "\nbinaries:\n  - package: ./cmd/app\nimage:\n  base: scratch\n",
		"go.work":      "go 1.26\n\nuse (\n\t.\n\t./lib\n\t./other\n)\n",
		"go.mod":       "module example.com/app\n\ngo 1.26\n\nrequire " + alpha.path + " v1.0.0\n",
		"go.sum":       goSumLines(t, alpha),
		"cmd/app/main.go": "package main\n\nimport (\n\t\"example.com/lib\"\n\t\"" + alpha.path + "\"\n)\n\n" +
			"func main() { println(alpha.Name(), lib.Name()) }\n",
		"lib/go.mod":     "module example.com/lib\n\ngo 1.26\n\nrequire " + gamma.path + " v1.0.0\n",
		"lib/go.sum":     goSumLines(t, gamma),
		"lib/lib.go":     "package lib\n\nimport \"" + gamma.path + "\"\n\nfunc Name() string { return gamma.Name() }\n",
		"other/go.mod":   "module example.com/other\n\ngo 1.26\n\nrequire " + beta.path + " v1.0.0\n",
		"other/go.sum":   goSumLines(t, beta),
		"other/other.go": "package other\n\nimport \"" + beta.path + "\"\n\nvar Name = beta.Name\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, out := buildAndRun(t, dir, "app", map[string]string{"build-arg:TEST_GOPROXY": proxy.url})
	if out != "alpha gamma" {
		t.Errorf("app printed %q", out)
	}
	want := []string{"/" + alpha.path + "/@v/v1.0.0.zip", "/" + gamma.path + "/@v/v1.0.0.zip"}
	if got := proxy.zipsServed(); !slices.Equal(got, want) {
		t.Errorf("the build fetched %q, want only %q", got, want)
	}
}
