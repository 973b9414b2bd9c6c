package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gobuildkit/gobuild/frontend"

	gbllb "github.com/gobuildkit/gobuild/llb"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// These tests take the path users take: `docker buildx`, the pinned docker
// CLI running the pinned buildx as its cli-plugin, with a remote builder
// pointing at the bed's buildkitd, and the frontend image named on the spec's
// # syntax= line. There is no Docker engine: every command here goes to the
// buildx plugin, which talks to buildkitd itself.

var (
	dockerOnce   sync.Once
	dockerConfig string
	dockerErr    error
)

// buildx runs `docker buildx ARGS` in dir and returns its combined output.
func buildx(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	out, err := buildxCommand(t, dir, args...).CombinedOutput()
	return string(out), err
}

// buildxStdout runs `docker buildx ARGS` in dir and returns what it wrote
// to its standard output (a --call's answer) apart from the progress and
// errors it wrote to its standard error.
func buildxStdout(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var outBuf, errBuf bytes.Buffer
	cmd := buildxCommand(t, dir, args...)
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	err = cmd.Run()
	return outBuf.String(), errBuf.String(), err
}

func buildxCommand(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	dockerOnce.Do(func() { dockerConfig, dockerErr = setUpDockerConfig() })
	if dockerErr != nil {
		t.Fatal(dockerErr)
	}
	cmd := exec.Command(filepath.Join(bed.Bin, "docker"), append([]string{"buildx", "--builder", "gobuild-test"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig, "BUILDKIT_PROGRESS=plain", "BUILDX_NO_DEFAULT_ATTESTATIONS=1")
	return cmd
}

// setUpDockerConfig makes a docker config directory of the tests' own (the
// user's ~/.docker is left alone) with buildx installed as a cli-plugin and a
// remote builder named gobuild-test selected.
func setUpDockerConfig() (string, error) {
	dir, err := os.MkdirTemp("", "gobuild-docker-")
	if err != nil {
		return "", err
	}
	plugins := filepath.Join(dir, "cli-plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		return dir, err
	}
	if err := os.Symlink(filepath.Join(bed.Bin, "buildx"), filepath.Join(plugins, "docker-buildx")); err != nil {
		return dir, err
	}
	cmd := exec.Command(filepath.Join(bed.Bin, "docker"), "buildx", "create", "--name", "gobuild-test", "--driver", "remote", "--use", bed.Addr)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, fmt.Errorf("docker buildx create: %v\n%s", err, out)
	}
	return dir, nil
}

// specWithSyntax copies a module and names the frontend image on its
// spec's first line.
func specWithSyntax(t *testing.T, src string) string {
	t.Helper()
	dir := copyDir(t, src)
	spec, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	spec = append([]byte("# syntax="+frontendImageRef(t)+"\n"), spec...)
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func goContext() string { return "golang:1.26=docker-image://" + bed.GoImage }

func TestBuildxBuild(t *testing.T) {
	dir := specWithSyntax(t, "testdata/twobins")
	out, err := buildx(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64,linux/arm64",
		"--build-arg", "VERSION=v5.0.0", "--build-context", goContext(),
		"--output", "type=oci,dest=image.tar", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	images := readImagesFile(t, filepath.Join(dir, "image.tar"))
	if len(images) != 2 {
		t.Fatalf("%d platform images, want 2", len(images))
	}
	server := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/server"])
	if got := runBinary(t, nil, server, "version"); !strings.HasPrefix(got, "server v5.0.0 ") {
		t.Errorf("server version = %q; --build-arg VERSION did not reach ldflags", got)
	}
	for _, step := range []string{gbllb.StepModDownload, gbllb.StepGoBuild("linux/arm64", "./cmd/server")} {
		if !strings.Contains(out, step) {
			t.Errorf("progress output lacks %q", step)
		}
	}
}

// TestBuildxShowsSpecLine: buildx prints the offending lines of the spec
// under the error, as it does for a Dockerfile.
func TestBuildxShowsSpecLine(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	spec := "# syntax=" + frontendImageRef(t) + "\nversion: 1\nbinaries:\n  - package: ./cmd/server\n    ldflag: [\"-X main.version=1\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := buildx(t, dir, "build", "-f", "gobuild.yaml", "--build-context", goContext(), ".")
	if err == nil {
		t.Fatalf("the build succeeded:\n%s", out)
	}
	for _, want := range []string{
		`gobuild.yaml:5:5: unknown field "ldflag" in binaries[0]; did you mean "ldflags"?`,
		`>>>     ldflag: ["-X main.version=1"]`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBuildxLocalBinaries(t *testing.T) {
	dir := specWithSyntax(t, "testdata/twobins")
	out, err := buildx(t, dir, "build", "-f", "gobuild.yaml", "--target", "binaries", "--platform", "linux/amd64,linux/arm64",
		"--build-context", goContext(), "--output", "type=local,dest=bin", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range []string{"linux_amd64/server", "linux_amd64/worker", "linux_arm64/server", "linux_arm64/worker"} {
		if _, err := os.Stat(filepath.Join(dir, "bin", f)); err != nil {
			t.Error(err)
		}
	}
}

// TestBuildxPushAndPullByDigest pushes to the registry and fetches the
// pushed index back by the digest buildx reported.
func TestBuildxPushAndPullByDigest(t *testing.T) {
	dir := specWithSyntax(t, "testdata/twobins")
	ref := bed.Registry + "/twobins:e2e"
	out, err := buildx(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64,linux/arm64",
		"--build-context", goContext(), "--metadata-file", "metadata.json",
		"--output", "type=image,name="+ref+",push=true,registry.insecure=true", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if archs := fetchIndex(t, dir, "twobins"); !slices.Equal(archs, []string{"amd64", "arm64"}) {
		t.Errorf("pulled index has %q, want amd64 and arm64", archs)
	}
}

// TestBake builds two gobuild images and a binaries target from one bake
// file, the way CI runs it.
func TestBake(t *testing.T) {
	root := t.TempDir()
	for name, src := range map[string]string{"twobins": "testdata/twobins", "hello": "../examples/hello"} {
		dir := specWithSyntax(t, src)
		if err := os.CopyFS(filepath.Join(root, name), os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	bake := fmt.Sprintf(`group "default" {
  targets = ["twobins", "hello", "twobins-binaries"]
}
target "_gobuild" {
  dockerfile = "gobuild.yaml"
  contexts = { "golang:1.26" = "docker-image://%s" }
  args = { VERSION = "v7.0.0" }
}
target "twobins" {
  inherits = ["_gobuild"]
  context = "twobins"
  platforms = ["linux/amd64", "linux/arm64"]
  output = ["type=oci,dest=out/twobins.tar"]
}
target "hello" {
  inherits = ["_gobuild"]
  context = "hello"
  output = ["type=oci,dest=out/hello.tar"]
}
target "twobins-binaries" {
  inherits = ["_gobuild"]
  context = "twobins"
  target = "binaries"
  platforms = ["linux/amd64"]
  output = ["type=local,dest=out/bin"]
}
`, bed.GoImage)
	if err := os.WriteFile(filepath.Join(root, "docker-bake.hcl"), []byte(bake), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := buildx(t, root, "bake")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// hello's target names no platforms: the daemon's platform alone,
	// whatever its spec lists (as buildx asked for no other).
	for name, platforms := range map[string]int{"twobins": 2, "hello": 1} {
		if images := readImagesFile(t, filepath.Join(root, "out", name+".tar")); len(images) != platforms {
			t.Errorf("%s: %d platform images, want %d", name, len(images), platforms)
		}
	}
	worker, err := os.ReadFile(filepath.Join(root, "out", "bin", "linux_amd64", "worker"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(worker, []byte("v7.0.0-amd64")) {
		t.Error("the bake args did not reach the binaries target's ldflags")
	}
}

// TestBuildxCalls: buildx's --call=outline, targets and check reach the
// frontend through the # syntax= line and bring back its answers: the
// build-args the spec reads with their lines, the target table with its
// default, and the lint findings with their lines.
func TestBuildxCalls(t *testing.T) {
	t.Run("outline", testBuildxOutline)
	t.Run("targets", testBuildxTargets)
	t.Run("check", testBuildxCheck)
}

func testBuildxOutline(t *testing.T) {
	dir := specWithSyntax(t, "../examples/private")
	spec, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := buildxStdout(t, dir, "build", "-f", "gobuild.yaml", "--call", "outline,format=json", "--build-context", goContext(), ".")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	var o outline.Outline
	if err := json.Unmarshal([]byte(stdout), &o); err != nil {
		t.Fatalf("--call=outline,format=json: %v\n%s%s", err, stdout, stderr)
	}
	if o.Name != "gobuild.yaml" || len(o.Sources) != 1 || !bytes.Equal(o.Sources[0], spec) {
		t.Errorf("outline of %q with sources %q, want gobuild.yaml and its text", o.Name, o.Sources)
	}
	var names []string
	args := map[string]outline.Arg{}
	for _, a := range o.Args {
		names = append(names, a.Name)
		args[a.Name] = a
	}
	// The frontend's own, in its table's order, then the spec's.
	var want []string
	for _, a := range frontend.BuildArgs() {
		want = append(want, a.Name)
	}
	if want = append(want, "PRIVATE_GOPROXY"); !slices.Equal(names, want) {
		t.Errorf("build-args %q, want %q", names, want)
	}
	if v := args["VERSION"]; v.Value != "dev" || !strings.Contains(v.Description, "{{.Version}}") || !strings.Contains(v.Description, "git describe") {
		t.Errorf("VERSION = %+v, want the default dev, git describe before it and what it sets", v)
	}
	line := int32(specLine(t, spec, "{{.Args.PRIVATE_GOPROXY}}"))
	if p := args["PRIVATE_GOPROXY"]; p.Description != "read by {{.Args.PRIVATE_GOPROXY}}" || p.Location == nil ||
		len(p.Location.Ranges) != 1 || p.Location.Ranges[0].Start.Line != line {
		t.Errorf("PRIVATE_GOPROXY = %+v, want it read at line %d", p, line)
	}
	if len(o.Secrets) != 1 || o.Secrets[0].Name != "netrc" || len(o.SSH) != 1 || o.SSH[0].Name != "default" {
		t.Errorf("secrets %+v, ssh %+v; want the netrc secret and the default agent", o.Secrets, o.SSH)
	}
}

func testBuildxTargets(t *testing.T) {
	dir := specWithSyntax(t, "../examples/private")
	stdout, stderr, err := buildxStdout(t, dir, "build", "-f", "gobuild.yaml", "--call", "targets", "--build-context", goContext(), ".")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout, stderr)
	}
	// buildx prints the frontend's list as a table, the default marked.
	var want []struct{ name, description string }
	for i, tg := range frontend.Targets() {
		name := tg.Name
		if i == 0 {
			name += " (default)"
		}
		want = append(want, struct{ name, description string }{name, tg.Description})
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(want)+1 || !regexp.MustCompile(`^TARGET\s+DESCRIPTION$`).MatchString(lines[0]) {
		t.Fatalf("--call=targets printed %d lines, want a header and %d targets:\n%s", len(lines), len(want), stdout)
	}
	for i, w := range want {
		row := regexp.MustCompile(`^` + regexp.QuoteMeta(w.name) + `\s+` + regexp.QuoteMeta(w.description) + `$`)
		if !row.MatchString(lines[i+1]) {
			t.Errorf("target %d is %q, want %s: %s", i, lines[i+1], w.name, w.description)
		}
	}
}

func testBuildxCheck(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	spec := "# syntax=" + frontendImageRef(t) + "\nversion: 1\nbuilder: golang:1.26\nbinaries:\n  - package: ./cmd/server\nimage:\n  user: root\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	// buildx fails a check that finds something; the answer is printed
	// all the same.
	stdout, stderr, _ := buildxStdout(t, dir, "build", "-f", "gobuild.yaml", "--call", "check,format=json", "--build-context", goContext(), ".")
	var res lint.LintResults
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--call=check,format=json: %v\n%s%s", err, stdout, stderr)
	}
	type finding struct {
		rule string
		line int32
	}
	var got []finding
	for _, w := range res.Warnings {
		f := finding{rule: w.RuleName}
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			f.line = w.Location.Ranges[0].Start.Line
		}
		got = append(got, f)
	}
	// In line order: the builder's floating tag, the root user. Without a
	// .dockerignore .git is there for the version, and nothing else sees
	// it.
	want := []finding{{"FloatingImage", 3}, {"RunsAsRoot", 7}}
	if !slices.Equal(got, want) {
		t.Errorf("findings %+v, want %+v", got, want)
	}
	if len(res.Sources) != 1 || res.Sources[0].Filename != "gobuild.yaml" || string(res.Sources[0].Data) != spec {
		t.Errorf("sources = %+v, want gobuild.yaml and its text", res.Sources)
	}

	// buildx exits 0 on the README's spec: a CI job can gate on it.
	clean := "# syntax=" + frontendImageRef(t) + "\n" + readmeSpec(t)
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(clean), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, err := buildxStdout(t, dir, "build", "-f", "gobuild.yaml", "--call", "check", "--build-context", goContext(), "."); err != nil {
		t.Errorf("--call=check on the README's spec: %v\n%s%s", err, stdout, stderr)
	}
}

// specLine is the 1-based line of the spec that contains s.
func specLine(t *testing.T, spec []byte, s string) int {
	t.Helper()
	for i, line := range strings.Split(string(spec), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("the spec has no line with %q", s)
	return 0
}

// TestMultiNodeBuilder: a buildx builder with two nodes, one per platform,
// builds one multi-platform image; each node runs the frontend for its own
// platform.
func TestMultiNodeBuilder(t *testing.T) {
	armNode := "unix://" + filepath.Join(bed.Dir, "armnode.sock")
	if err := bed.StartDaemon(context.Background(), "armnode", armNode, nil); err != nil {
		t.Fatal(err)
	}
	dir := specWithSyntax(t, "testdata/twobins")
	for _, args := range [][]string{
		{"create", "--name", "two-nodes", "--driver", "remote", "--platform", "linux/amd64", bed.Addr},
		{"create", "--name", "two-nodes", "--append", "--driver", "remote", "--platform", "linux/arm64", armNode},
	} {
		if out, err := buildx(t, dir, args...); err != nil {
			t.Fatalf("buildx %q: %v\n%s", args, err, out)
		}
	}
	ref := bed.Registry + "/twobins:two-nodes"
	out, err := buildx(t, dir, "--builder", "two-nodes", "build", "-f", "gobuild.yaml", "--platform", "linux/amd64,linux/arm64",
		"--build-context", goContext(), "--metadata-file", "metadata.json",
		"--output", "type=image,name="+ref+",push=true,registry.insecure=true", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if archs := fetchIndex(t, dir, "twobins"); !slices.Equal(archs, []string{"amd64", "arm64"}) {
		t.Errorf("pushed index has %q, want one image from each node", archs)
	}
}

// fetchIndex reads the digest buildx wrote to metadata.json, pulls that
// index from the registry and returns its images' architectures, sorted.
func fetchIndex(t *testing.T, dir, repo string) []string {
	t.Helper()
	var meta map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	digest, _ := meta["containerimage.digest"].(string)
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("metadata = %s", data)
	}
	var index ocispecs.Index
	registryGet(t, repo, digest, ocispecs.MediaTypeImageIndex, &index)
	var archs []string
	for _, m := range index.Manifests {
		if m.Platform != nil {
			archs = append(archs, m.Platform.Architecture)
		}
	}
	slices.Sort(archs)
	return archs
}

// readLayoutFile reads an OCI layout tarball a client wrote.
func readLayoutFile(t *testing.T, path string) *testenv.Layout {
	t.Helper()
	tarball, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	layout, err := testenv.ReadLayout(tarball)
	if err != nil {
		t.Fatal(err)
	}
	return layout
}

// readImagesFile reads the images of an OCI layout tarball a client wrote.
func readImagesFile(t *testing.T, path string) map[string]*testenv.Image {
	t.Helper()
	images, err := readLayoutFile(t, path).Images()
	if err != nil {
		t.Fatal(err)
	}
	return images
}

// TestRepoBakeFile runs the repository's own docker-bake.hcl: a release
// build of the frontend image pushed for two platforms with its version
// tags and labels, then the unit tests and every example built with that
// image through BUILDKIT_SYNTAX.
func TestRepoBakeFile(t *testing.T) {
	repo := bed.Registry + "/gobuild-bake"
	bakeEnv := []string{"REPO=" + repo, "VERSION=v0.3.1", "REVISION=abc123", "GOLANG_IMAGE=" + bed.GoImage, "FRONTEND=" + repo + ":v0"}
	bake := func(args ...string) string {
		t.Helper()
		for _, kv := range bakeEnv {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, kv[len(k)+1:])
		}
		out, err := buildx(t, "..", append([]string{"bake", "-f", "docker-bake.hcl"}, args...)...)
		if err != nil {
			t.Fatalf("bake %q: %v\n%s", args, err, out)
		}
		return out
	}
	bake("--push")

	name := strings.TrimPrefix(repo, bed.Registry+"/")
	var index ocispecs.Index
	registryGet(t, name, "v0", ocispecs.MediaTypeImageIndex, &index)
	var archs []string
	for _, m := range index.Manifests {
		if m.Platform == nil || m.Platform.OS != "linux" {
			continue
		}
		archs = append(archs, m.Platform.Architecture)
		var manifest ocispecs.Manifest
		registryGet(t, name, m.Digest.String(), ocispecs.MediaTypeImageManifest, &manifest)
		var config ocispecs.Image
		registryGet(t, name, manifest.Config.Digest.String(), "blob", &config)
		if config.Config.User != "65532:65532" {
			t.Errorf("%s: user %q, want nonroot 65532:65532", m.Platform.Architecture, config.Config.User)
		}
		for k, v := range map[string]string{
			"moby.buildkit.frontend.network.none": "true",
			"org.opencontainers.image.version":    "v0.3.1",
			"org.opencontainers.image.revision":   "abc123",
		} {
			if config.Config.Labels[k] != v {
				t.Errorf("%s: label %s = %q, want %q", m.Platform.Architecture, k, config.Config.Labels[k], v)
			}
		}
		if !strings.Contains(config.Config.Labels["moby.buildkit.frontend.caps"], "moby.buildkit.frontend.subrequests") {
			t.Errorf("%s: caps label %q", m.Platform.Architecture, config.Config.Labels["moby.buildkit.frontend.caps"])
		}
	}
	slices.Sort(archs)
	if !slices.Equal(archs, []string{"amd64", "arm64"}) {
		t.Errorf("frontend image platforms = %v, want amd64 and arm64", archs)
	}
	for _, tag := range []string{"v0.3.1", "v0.3"} {
		var same ocispecs.Index
		registryGet(t, name, tag, ocispecs.MediaTypeImageIndex, &same)
		if len(same.Manifests) != len(index.Manifests) || same.Manifests[0].Digest != index.Manifests[0].Digest {
			t.Errorf("tag %s is not the release image", tag)
		}
	}

	out := bake("test", "examples")
	for _, target := range []string{"example-hello", "example-multi", "example-files", "example-tested", "test"} {
		if !strings.Contains(out, "["+target) {
			t.Errorf("bake did not build %s:\n%s", target, out)
		}
	}
}

// registryGet fetches a manifest (by tag or digest) or, with kind "blob",
// a blob from the bed's registry and decodes it; by digest it also checks
// the registry served that manifest.
func registryGet(t *testing.T, repo, ref, kind string, v any) {
	t.Helper()
	url := "http://" + bed.Registry + "/v2/" + repo + "/manifests/" + ref
	if kind == "blob" {
		url = "http://" + bed.Registry + "/v2/" + repo + "/blobs/" + ref
	}
	req, _ := http.NewRequest("GET", url, nil)
	if kind != "blob" {
		req.Header.Set("Accept", kind)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body.String())
	}
	// Fetched by digest, the registry must serve exactly that content.
	if kind != "blob" && strings.HasPrefix(ref, "sha256:") && resp.Header.Get("Docker-Content-Digest") != ref {
		t.Fatalf("GET %s: served %q", url, resp.Header.Get("Docker-Content-Digest"))
	}
	if err := json.Unmarshal(body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestCIExampleBake runs examples/ci's bake file, as its workflow does,
// on examples/hello: tests, then the two-platform image pushed with a
// registry cache, then the release binaries.
func TestCIExampleBake(t *testing.T) {
	dir := specWithSyntax(t, "../examples/hello")
	bakeFile, err := os.ReadFile("../examples/ci/docker-bake.hcl")
	if err != nil {
		t.Fatal(err)
	}
	// The bed serves golang:1.26 from its registry; a second bake file
	// adds the named context, as a mirror would.
	files := map[string]string{
		"docker-bake.hcl":  string(bakeFile),
		"bed-override.hcl": fmt.Sprintf("target \"_common\" {\n  contexts = { \"golang:1.26\" = \"docker-image://%s\" }\n}\n", bed.GoImage),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("IMAGE", bed.Registry+"/hello-ci")
	t.Setenv("VERSION", "v1.0.0")
	bake := func(args ...string) string {
		t.Helper()
		out, err := buildx(t, dir, append([]string{"bake", "-f", "docker-bake.hcl", "-f", "bed-override.hcl"}, args...)...)
		if err != nil {
			t.Fatalf("bake %q: %v\n%s", args, err, out)
		}
		return out
	}
	out := bake("--push")
	if !strings.Contains(out, "go test ./... (") {
		t.Errorf("the default group ran no tests:\n%s", out)
	}
	var index ocispecs.Index
	registryGet(t, "hello-ci", "v1.0.0", ocispecs.MediaTypeImageIndex, &index)
	if len(index.Manifests) != 2 {
		t.Errorf("pushed index has %d manifests, want two platforms", len(index.Manifests))
	}
	var cache ocispecs.Manifest
	registryGet(t, "hello-ci", "buildcache", ocispecs.MediaTypeImageManifest, &cache)
	if len(cache.Layers) == 0 {
		t.Error("the registry cache holds no layers")
	}
	// The bake file asks for zstd, which a fresh runner unpacks faster.
	for _, l := range cache.Layers {
		if l.MediaType != ocispecs.MediaTypeImageLayerZstd {
			t.Errorf("the registry cache holds %s as %s, want the bake file's zstd", l.Digest, l.MediaType)
		}
	}

	bake("binaries")
	for _, p := range []string{"linux_amd64", "linux_arm64"} {
		if _, err := os.Stat(filepath.Join(dir, "dist", p, "hello")); err != nil {
			t.Errorf("release binary: %v", err)
		}
	}
}
