package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

// vulnDB serves a Go vulnerability database on loopback with one made-up
// entry: example.com/vulnmod's Bad, fixed in v1.0.1.
func vulnDB(t *testing.T) string {
	t.Helper()
	const modified = `"2026-01-01T00:00:00Z"`
	files := map[string]string{
		"/index/db.json":      `{"modified":` + modified + `}`,
		"/index/modules.json": `[{"path":"example.com/vulnmod","vulns":[{"id":"GO-2099-0001","modified":` + modified + `,"fixed":"1.0.1"}]}]`,
		"/ID/GO-2099-0001.json": `{"schema_version":"1.3.1","id":"GO-2099-0001","modified":` + modified + `,"published":` + modified + `,` +
			`"summary":"Bad doubles in example.com/vulnmod","details":"A made-up vulnerability for gobuild's tests.",` +
			`"affected":[{"package":{"name":"example.com/vulnmod","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}],` +
			`"ecosystem_specific":{"imports":[{"path":"example.com/vulnmod","symbols":["Bad"]}]}}],` +
			`"database_specific":{"url":"https://pkg.go.dev/vuln/GO-2099-0001"}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[strings.TrimSuffix(r.URL.Path, ".gz")]
		if !ok || !strings.HasSuffix(r.URL.Path, ".json.gz") {
			http.NotFound(w, r)
			return
		}
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, data)
		_ = zw.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// vulnProject writes a module whose binary calls vulnmod's call (Bad or
// Good), with the go.sum of the module the proxy serves.
func vulnProject(t *testing.T, call string) string {
	t.Helper()
	dir := t.TempDir()
	const path, version = "example.com/vulnmod", "v1.0.0"
	var zipData bytes.Buffer
	if err := zip.CreateFromDir(&zipData, module.Version{Path: path, Version: version}, "testdata/vulnmod"); err != nil {
		t.Fatal(err)
	}
	zipFile := filepath.Join(t.TempDir(), "mod.zip")
	if err := os.WriteFile(zipFile, zipData.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	zipHash, err := dirhash.HashZip(zipFile, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	modHash, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return os.Open("testdata/vulnmod/go.mod") })
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"go.mod":          "module example.com/app\n\ngo 1.26\n\nrequire " + path + " " + version + "\n",
		"go.sum":          path + " " + version + " " + zipHash + "\n" + path + " " + version + "/go.mod " + modHash + "\n",
		"cmd/app/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/vulnmod\"\n)\n\nfunc main() { fmt.Println(vulnmod." + call + "(20)) }\n",
		"gobuild.yaml":    "version: 1\ngoproxy: \"{{.Args.PROXY}},https://proxy.golang.org,direct\"\ngonosumdb: example.com/vulnmod\nbinaries:\n  - package: ./cmd/app\n",
	})
	return dir
}

// TestVulnTarget runs --target vuln against a database of the test's own:
// code that calls the vulnerable function fails with the vulnerability's
// ID, its module and the call path; code that requires the module without
// calling it passes, with a note in the report.
func TestVulnTarget(t *testing.T) {
	proxy := startModuleProxy(t, false, proxiedModule{"testdata/vulnmod", "example.com/vulnmod", "v1.0.0"})
	db := vulnDB(t)
	attrs := map[string]string{"target": "vuln", "build-arg:PROXY": proxy.url, "build-arg:GOVULNDB": db}

	reachable := vulnProject(t, "Bad")
	res, err := bed.Build(context.Background(), reachable, testenv.BuildOpts{Attrs: attrs, LocalOutput: t.TempDir()})
	if err == nil {
		t.Fatal("the vuln target passed code that calls a vulnerable function")
	}
	for _, want := range []string{"GO-2099-0001", "example.com/vulnmod", "vulnmod.Bad", "Fixed in: example.com/vulnmod@v1.0.1"} {
		if !bytes.Contains(res.Logs, []byte(want)) {
			t.Errorf("the failure's output lacks %q:\n%s", want, res.Logs)
		}
	}
	if !strings.Contains(err.Error(), "govulncheck: the code calls vulnerable functions") {
		t.Errorf("the error does not say what failed and what to do: %v", err)
	}

	unreachable := vulnProject(t, "Good")
	out := t.TempDir()
	if res, err := bed.Build(context.Background(), unreachable, testenv.BuildOpts{Attrs: attrs, LocalOutput: out}); err != nil {
		t.Fatalf("the vuln target failed code that does not call the vulnerable function: %v\n%s", err, res.Logs)
	}
	report, err := os.ReadFile(filepath.Join(out, gbllb.VulnReport))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(report, []byte("affected by 0 vulnerabilities")) || !bytes.Contains(report, []byte("1 vulnerability in packages you import")) {
		t.Errorf("the report lacks the note on the vulnerability not called:\n%s", report)
	}
}
