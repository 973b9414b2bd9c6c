package integration

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

// cliRun runs the gobuild CLI against the bed's daemon in dir and returns
// its stdout, stderr and exit code.
func cliRun(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(gobuildCLI(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+bed.Addr)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestCLIHelpAndUsage: --help is an answer (usage on stdout, exit 0); a
// bad command line exits 2 as the README says.
func TestCLIHelpAndUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"build", "--help"}, {"build", "-h"}} {
		out, errOut, code := cliRun(t, ".", args...)
		if code != 0 || !strings.Contains(out, "usage: gobuild build") {
			t.Errorf("gobuild %q: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", args, code, out, errOut)
		}
	}
	if out, _, _ := cliRun(t, ".", "build", "--help"); !strings.Contains(out, "-target") || !strings.Contains(out, "-secret") {
		t.Errorf("gobuild build --help does not list the flags:\n%s", out)
	}
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"build", "--no-such-flag", "--oci", "x.tar"},
		{"build", "--build-arg", "NOEQUALS", "--oci", "x.tar", "testdata/twobins"},
		{"build", "--build-context", "nosource", "--oci", "x.tar", "testdata/twobins"},
		{"build", "--call", "nonsense", "testdata/twobins"},
		{"build", "--progress", "fancy", "--oci", "x.tar", "testdata/twobins"},
		{"build", "--secret", "id=x,type=bogus", "--oci", "x.tar", "testdata/twobins"},
		{"build", "--cache-to", "type=local,nokey", "--oci", "x.tar", "testdata/twobins"},
	} {
		if _, errOut, code := cliRun(t, ".", args...); code != 2 {
			t.Errorf("gobuild %q: exit %d, want 2\n%s", args, code, errOut)
		}
	}
}

// TestCLICall: --call outline|targets|check print buildx's text, or the
// frontend's JSON with format=json; check exits 1 on warnings.
func TestCLICall(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	ctxFlag := "--build-context=" + goContext()

	out, errOut, code := cliRun(t, dir, "build", ctxFlag, "--call", "targets")
	if code != 0 || !strings.Contains(out, "TARGET") || !strings.Contains(out, "binaries") || !strings.Contains(out, "(default)") {
		t.Errorf("--call targets: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	out, errOut, code = cliRun(t, dir, "build", ctxFlag, "--call", "targets,format=json")
	var list targets.List
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Targets) == 0 {
		t.Errorf("--call targets,format=json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errOut)
	}
	out, errOut, code = cliRun(t, dir, "build", ctxFlag, "--call", "outline")
	if code != 0 || !strings.Contains(out, "BUILD ARG") || !strings.Contains(out, "VERSION") || !strings.Contains(out, "netrc") {
		t.Errorf("--call outline: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	spec := "version: 1\nbuilder: golang:1.26\nbinaries:\n  - package: ./cmd/server\nimage:\n  user: root\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = cliRun(t, dir, "build", ctxFlag, "--call", "check")
	if code != 1 || !strings.Contains(out, "RunsAsRoot") || !strings.Contains(out, ">>>   user: root") {
		t.Errorf("--call check with warnings: exit %d, want 1 and buildx's text\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	out, errOut, code = cliRun(t, dir, "build", ctxFlag, "--call=check,format=json")
	var res lint.LintResults
	if err := json.Unmarshal([]byte(out), &res); code != 1 || err != nil || len(res.Warnings) == 0 {
		t.Errorf("--call=check,format=json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errOut)
	}
}

// TestCLITargetOutputLocal: --target binaries with --output type=local
// writes the binaries into a directory; --progress quiet prints no steps.
func TestCLITargetOutputLocal(t *testing.T) {
	out := t.TempDir()
	_, errOut, code := cliRun(t, ".", "build", "--build-context", goContext(), "--platform", "linux/amd64",
		"--progress", "quiet", "--target", "binaries", "--output", "type=local,dest="+out, "testdata/twobins")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, "#1 ") {
		t.Errorf("--progress quiet printed the steps:\n%s", errOut)
	}
	for _, name := range []string{"linux_amd64/server", "linux_amd64/worker"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			var files []string
			_ = filepath.Walk(out, func(p string, _ os.FileInfo, _ error) error { files = append(files, p); return nil })
			t.Errorf("%s: %v; the output holds %q", name, err, files)
		}
	}
}

// TestCLIAnnotationLabelCache: --annotation reaches the image exporter,
// --cache-to type=local writes a cache that --cache-from reads, and
// --label lands in the image config, over the spec's labels.
func TestCLIAnnotationLabelCache(t *testing.T) {
	work := t.TempDir()
	oci, cache := filepath.Join(work, "img.tar"), filepath.Join(work, "cache")
	_, errOut, code := cliRun(t, ".", "build", "--build-context", goContext(), "--platform", "linux/amd64",
		"--annotation", "org.example.note=annotated", "--label", "org.example.label=labelled", "--label", "org.opencontainers.image.title=relabelled",
		"--cache-to", "type=local,dest="+cache, "--cache-from", "type=local,src="+cache,
		"--oci", oci, "testdata/twobins")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	layout := readLayoutFile(t, oci)
	annotated := false
	annotation := regexp.MustCompile(`"org.example.note":\s*"annotated"`)
	for _, blob := range layout.Blobs {
		annotated = annotated || annotation.Match(blob)
	}
	if !annotated {
		t.Error("no manifest carries the --annotation")
	}
	images, err := layout.Images()
	if err != nil || images["linux/amd64"] == nil {
		t.Fatalf("images = %v, %v", images, err)
	}
	labels := images["linux/amd64"].Config.Config.Labels
	if labels["org.example.label"] != "labelled" || labels["org.opencontainers.image.title"] != "relabelled" {
		t.Errorf("--label org.example.label=labelled --label org.opencontainers.image.title=relabelled: the image's labels are %v", labels)
	}
	if _, err := os.Stat(filepath.Join(cache, "index.json")); err != nil {
		t.Errorf("--cache-to type=local wrote no cache: %v", err)
	}
}

// TestCLISecret: --secret id=netrc,src=FILE reaches the build: the
// private example downloads its module from an authenticated proxy.
func TestCLISecret(t *testing.T) {
	proxy := startPrivateProxy(t, "testdata/privatemod", "example.com/private/greet", "v1.0.0")
	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, proxy.netrc(), 0o600); err != nil {
		t.Fatal(err)
	}
	oci := filepath.Join(t.TempDir(), "img.tar")
	args := []string{"build", "--build-context", goContext(), "--platform", "linux/amd64",
		"--build-arg", "PRIVATE_GOPROXY=" + proxy.url, "--oci", oci}
	// An empty module cache, so the download really asks the proxy.
	pruneAll(t)
	if _, errOut, code := cliRun(t, ".", append(args, "../examples/private")...); code != 1 || !strings.Contains(errOut, "401 Unauthorized") {
		t.Fatalf("without --secret: exit %d, want 1 and the proxy's refusal\n%s", code, errOut)
	}
	_, errOut, code := cliRun(t, ".", append(args, "--secret", "id=netrc,src="+netrc, "../examples/private")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, proxy.password) {
		t.Error("the progress output holds the password")
	}
}

// TestCLIErrorSnippet: a spec error prints the spec's offending lines as
// buildx does, not only file:line:col.
func TestCLIErrorSnippet(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	spec := "version: 1\nbinaries:\n  - package: ./cmd/server\n    bogus: true\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := cliRun(t, dir, "build", "--build-context", goContext(), "--oci", filepath.Join(t.TempDir(), "x.tar"))
	if code != 1 || !strings.Contains(errOut, "--------------------") || !strings.Contains(errOut, ">>>     bogus: true") {
		t.Errorf("exit %d, want 1 and the spec's line:\n%s", code, errOut)
	}
}

// TestCLISSH: --ssh takes buildctl's forms. A key file is loaded into the
// agent the build's go commands are offered (the go build mounts it for
// git over ssh); a socket that does not exist is a bad command line.
func TestCLISSH(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	oci := filepath.Join(t.TempDir(), "img.tar")
	args := []string{"build", "--build-context", goContext(), "--platform", "linux/amd64", "--oci", oci}
	if _, errOut, code := cliRun(t, ".", append(args, "--ssh", "default="+keyFile, "testdata/twobins")...); code != 0 {
		t.Fatalf("--ssh default=KEY: exit %d\n%s", code, errOut)
	}
	missing := filepath.Join(t.TempDir(), "agent.sock")
	if _, errOut, code := cliRun(t, ".", append(args, "--ssh", "default="+missing, "testdata/twobins")...); code != 2 || !strings.Contains(errOut, "--ssh") {
		t.Errorf("--ssh default=%s (no such socket): exit %d, want 2 naming --ssh\n%s", missing, code, errOut)
	}
}
