package integration

import (
	"context"
	"debug/elf"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobuildkit/gobuild/frontend"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

// TestTargetBinaries: --target binaries with a local output lays every
// platform's binaries out as <os>_<arch>/<name>.
func TestTargetBinaries(t *testing.T) {
	out := t.TempDir()
	_, err := bed.Build(context.Background(), "testdata/twobins", testenv.BuildOpts{LocalOutput: out, Attrs: map[string]string{
		"target":   "binaries",
		"platform": "linux/amd64,linux/arm64",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for dir, machine := range map[string]elf.Machine{"linux_amd64": elf.EM_X86_64, "linux_arm64": elf.EM_AARCH64} {
		for _, name := range []string{"server", "worker"} {
			data, err := os.ReadFile(filepath.Join(out, dir, name))
			if err != nil {
				t.Fatal(err)
			}
			assertStaticELF(t, data, machine)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("output has %d entries, want the two platform directories", len(entries))
	}
}

// TestTargetTest: the test target runs go test with the spec's flags, tags
// and env, and a failing test fails the build with the test's output.
func TestTargetTest(t *testing.T) {
	ctx := context.Background()
	res, err := bed.Build(ctx, "../examples/tested", testenv.BuildOpts{LocalOutput: t.TempDir(), Attrs: map[string]string{"target": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Logs), "--- PASS: TestEnv") {
		t.Errorf("go test -v output missing from the logs:\n%s", res.Logs)
	}

	dir := copyDir(t, "../examples/tested")
	broken := filepath.Join(dir, "calc", "calc_test.go")
	code, err := os.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte(strings.Replace(string(code), "got != 6", "got != 7", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = bed.Build(ctx, dir, testenv.BuildOpts{LocalOutput: t.TempDir(), Attrs: map[string]string{"target": "test"}})
	if err == nil {
		t.Fatal("a failing test passed the build")
	}
	if !strings.Contains(string(res.Logs), "Sum(1, 2, 3) = 6, want 6") && !strings.Contains(string(res.Logs), "--- FAIL: TestSum") {
		t.Errorf("the failing test's output is not in the logs:\n%s", res.Logs)
	}
	if !strings.Contains(err.Error(), "go test") {
		t.Errorf("error %q does not name go test", err)
	}
}

// TestTargetVet: go vet passes on clean code and fails on a vet finding.
func TestTargetVet(t *testing.T) {
	ctx := context.Background()
	if _, err := bed.Build(ctx, "../examples/tested", testenv.BuildOpts{LocalOutput: t.TempDir(), Attrs: map[string]string{"target": "vet"}}); err != nil {
		t.Fatal(err)
	}
	dir := copyDir(t, "../examples/tested")
	bad := "package calc\n\nimport \"fmt\"\n\n// Show prints a number.\nfunc Show() { fmt.Printf(\"%d\\n\", \"not a number\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "calc", "show.go"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(ctx, dir, testenv.BuildOpts{LocalOutput: t.TempDir(), Attrs: map[string]string{"target": "vet"}})
	if err == nil {
		t.Fatal("go vet passed code with a Printf mistake")
	}
	if !strings.Contains(string(res.Logs), "Printf format %d has arg") {
		t.Errorf("vet's finding is not in the logs:\n%s", res.Logs)
	}
}

// TestTargetSpec outputs the spec with its defaults resolved.
func TestTargetSpec(t *testing.T) {
	out := t.TempDir()
	if _, err := bed.Build(context.Background(), "testdata/twobins", testenv.BuildOpts{LocalOutput: out, Attrs: map[string]string{"target": "spec"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "gobuild.resolved.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go: \"1.26\"", "builder: golang:1.26", "name: worker", "trimpath: true", "user: \"65532\"", "base: static"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("resolved spec lacks %q:\n%s", want, data)
		}
	}
}

func TestUnknownTarget(t *testing.T) {
	_, err := bed.Build(context.Background(), "testdata/twobins", testenv.BuildOpts{Attrs: map[string]string{"target": "imgae"}})
	if err == nil || !strings.Contains(err.Error(), `unknown target "imgae"; valid targets: image, debug, binaries, test, vet, vuln, spec`) {
		t.Fatalf("error = %v", err)
	}
}

func TestCallTargets(t *testing.T) {
	answer, err := bed.Call(context.Background(), "testdata/twobins", "frontend.targets")
	if err != nil {
		t.Fatal(err)
	}
	var list targets.List
	if err := json.Unmarshal(answer, &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range list.Targets {
		names = append(names, tg.Name)
	}
	var want []string
	for _, tg := range frontend.Targets() {
		want = append(want, tg.Name)
	}
	if !slices.Equal(names, want) || !slices.Contains(names, "debug") || !list.Targets[0].Default {
		t.Errorf("targets = %+v", list.Targets)
	}
}

func TestCallOutline(t *testing.T) {
	answer, err := bed.Call(context.Background(), "../examples/private", "frontend.outline")
	if err != nil {
		t.Fatal(err)
	}
	var o outline.Outline
	if err := json.Unmarshal(answer, &o); err != nil {
		t.Fatal(err)
	}
	args := map[string]outline.Arg{}
	for _, a := range o.Args {
		args[a.Name] = a
	}
	if args["VERSION"].Value != "dev" || args["VERSION"].Description == "" {
		t.Errorf("VERSION = %+v", args["VERSION"])
	}
	priv, ok := args["PRIVATE_GOPROXY"]
	if !ok || priv.Location == nil || priv.Location.Ranges[0].Start.Line != 10 {
		t.Errorf("PRIVATE_GOPROXY = %+v, want it located at the goproxy line", priv)
	}
	if len(o.Secrets) != 1 || o.Secrets[0].Name != "netrc" {
		t.Errorf("secrets = %+v", o.Secrets)
	}
}

// TestCallCheck: the lint rules fire where they should and point at the
// line.
func TestCallCheck(t *testing.T) {
	spec := "version: 1\nbuilder: golang:1.26\nbinaries:\n  - package: ./cmd/server\nimage:\n  user: root\n"
	want := map[string]int32{"FloatingImage": 2, "RunsAsRoot": 6}
	if got := callCheck(t, spec, ""); !maps.Equal(got, want) {
		t.Errorf("findings (rule: line) = %v, want %v", got, want)
	}
}

// TestCallCheckNewRules: the README's minimal spec is clean, so a CI job
// can gate on --call=check; a spec that breaks each rule added for real
// services gets that rule at its line.
func TestCallCheckNewRules(t *testing.T) {
	if got := callCheck(t, readmeSpec(t), ""); len(got) != 0 {
		t.Errorf("the README's spec: findings (rule: line) = %v, want none", got)
	}
	spec := "version: 1\nbinaries:\n  - package: ./cmd/server\n    ldflags: [\"-X main.version={{.Version}}\"]\n" +
		"image:\n  ports: [443]\n  env:\n    TZDIR: /usr/share/zoneinfo\n"
	want := map[string]int32{"GitDirIgnored": 4, "PrivilegedPort": 6, "ZoneinfoTree": 8}
	if got := callCheck(t, spec, ".git\n"); !maps.Equal(got, want) {
		t.Errorf("findings (rule: line) = %v, want %v", got, want)
	}
}

// readmeSpec is the first YAML example of the README, without its
// # syntax= line (the in-process frontend needs none).
func readmeSpec(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(readme), "```yaml\n")
	spec, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the README has no yaml example")
	}
	if first, after, ok := strings.Cut(spec, "\n"); ok && strings.HasPrefix(first, "# syntax=") {
		spec = after
	}
	return spec
}

// callCheck answers --call=check for spec (and a .dockerignore, when not
// empty) in a copy of testdata/twobins, as each rule's line.
func callCheck(t *testing.T, spec, dockerignore string) map[string]int32 {
	t.Helper()
	dir := copyDir(t, "testdata/twobins")
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if dockerignore != "" {
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(dockerignore), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	answer, err := bed.Call(context.Background(), dir, "frontend.lint")
	if err != nil {
		t.Fatal(err)
	}
	var res lint.LintResults
	if err := json.Unmarshal(answer, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Sources) != 1 || res.Sources[0].Filename != "gobuild.yaml" {
		t.Errorf("sources = %+v", res.Sources)
	}
	lines := map[string]int32{}
	for _, w := range res.Warnings {
		line := int32(0)
		if w.Location != nil {
			line = w.Location.Ranges[0].Start.Line
		}
		lines[w.RuleName] = line
	}
	return lines
}
