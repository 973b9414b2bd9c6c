package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	gbllb "github.com/gobuildkit/gobuild/llb"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// gobuildCLI builds cmd/gobuild once per test run.
func gobuildCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gobuild-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "gobuild")
		build := exec.Command("go", "build", "-o", cliPath, "./cmd/gobuild")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("go build ./cmd/gobuild: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// TestCLIStartsAndReusesLocalDaemon: with no BUILDKIT_HOST, gobuild build
// starts a local buildkitd and registry, builds examples/hello into an OCI
// layout and leaves them running; a second build reuses them, cache and
// all; gobuild stop stops them.
func TestCLIStartsAndReusesLocalDaemon(t *testing.T) {
	work := t.TempDir()
	cli := gobuildCLI(t)
	state := filepath.Join(work, "local")
	env := []string{"GOBUILD_LOCAL_DIR=" + state}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BUILDKIT_HOST=") {
			env = append(env, kv)
		}
	}
	gobuild := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, args...)
		cmd.Dir, cmd.Env = "..", env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gobuild %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	defer gobuild("stop")

	oci := filepath.Join(work, "hello.tar")
	first := gobuild("build", "--oci", oci, "--build-arg", "VERSION=v0.1.0", "examples/hello")
	if !strings.Contains(first, "starting a local buildkitd") {
		t.Fatalf("first run did not start a daemon:\n%s", first)
	}
	// The README's command is told of no platform mismatch.
	if strings.Contains(first, "WARN") {
		t.Errorf("the build warned:\n%s", first)
	}
	if images := readImagesFile(t, oci); images["linux/amd64"] == nil || images["linux/arm64"] == nil {
		t.Fatalf("OCI layout images = %v; want linux/amd64 and linux/arm64", images)
	}

	second := gobuild("build", "--oci", oci, "--build-arg", "VERSION=v0.1.0", "examples/hello")
	if !strings.Contains(second, "using the local buildkitd") || strings.Contains(second, "starting a local buildkitd") {
		t.Fatalf("second run did not reuse the daemon:\n%s", second)
	}
	// Plain progress (no terminal here): each cached step says so.
	for _, step := range []string{gbllb.StepGoBuild("linux/amd64", "./cmd/hello"), gbllb.StepGoBuild("linux/arm64", "./cmd/hello")} {
		if !regexp.MustCompile(regexp.QuoteMeta(step) + `\n#\d+ CACHED`).MatchString(second) {
			t.Errorf("second run rebuilt %q:\n%s", step, second)
		}
	}

	if out := gobuild("stop"); !strings.Contains(out, "stopped the local buildkitd") {
		t.Errorf("gobuild stop: %s", out)
	}
	if _, err := os.Stat(filepath.Join(state, "bed.json")); !os.IsNotExist(err) {
		t.Errorf("the daemon is still recorded after gobuild stop: %v", err)
	}
}
