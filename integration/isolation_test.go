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
)

// TestTestsCannotPoisonAnotherProject: two projects on one builder, with
// the default settings. The attacker's tests rewrite every copy of a module
// both use that they can reach and zero every build cache entry, before
// the victim ever built and again once it has; the victim's binary still
// prints the module's own text.
func TestTestsCannotPoisonAnotherProject(t *testing.T) {
	greet := proxiedModule{"testdata/isolation/greet", "example.com/shared/greet", "v1.0.0"}
	proxy := startModuleProxy(t, false, greet)
	goSum := []byte(goSumLines(t, greet))
	victim, attacker := copyDir(t, "testdata/isolation/victim"), copyDir(t, "testdata/isolation/attacker")
	for _, dir := range []string{victim, attacker} {
		if err := os.WriteFile(filepath.Join(dir, "go.sum"), goSum, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := map[string]string{"build-arg:PROXY": proxy.url}

	attack := func(round, modulePath string) {
		t.Helper()
		// A new round is a new test file, so that BuildKit runs it again,
		// and a module path of the attacker's choosing: its own build cache
		// is wrecked by the last round.
		test := filepath.Join(attacker, "cmd", "attacker", "attack_test.go")
		appendTo(t, test, "\n// round "+round+"\n")
		goMod := filepath.Join(attacker, "go.mod")
		if err := os.WriteFile(goMod, bytes.Replace(mustRead(t, goMod), []byte("module example.com/attacker\n"), []byte("module "+modulePath+"\n"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := bed.Build(context.Background(), attacker, testenv.BuildOpts{
			Attrs:       map[string]string{"target": "test", "build-arg:PROXY": proxy.url},
			LocalOutput: t.TempDir(),
		})
		if err != nil {
			logs := ""
			if res != nil {
				logs = string(res.Logs)
			}
			t.Fatalf("the attacker's tests: %v\n%s", err, logs)
		}
		if !strings.Contains(string(res.Logs), "attack: edited") {
			t.Fatalf("the attack did not run:\n%s", res.Logs)
		}
	}

	attack("before the victim", "example.com/attacker")
	if _, out := buildAndRun(t, victim, "victim", args); out != "genuine greeting" {
		t.Errorf("the victim's first build prints %q", out)
	}
	// Posing as the victim, whose module path it knows.
	attack("after the victim", "example.com/victim")
	// The victim's next commit: its go build runs again.
	main := filepath.Join(victim, "cmd", "victim", "main.go")
	if err := os.WriteFile(main, bytes.Replace(mustRead(t, main), []byte("fmt.Println(greet.Text())"), []byte(`fmt.Println("v2", greet.Text())`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, out := buildAndRun(t, victim, "victim", args); out != "v2 genuine greeting" {
		t.Errorf("the victim's rebuild prints %q", out)
	}
}

// TestPrivateModulesStayWithTheirCredentials: a project builds with its
// netrc; another on the same builder, without it, gets neither the private
// module nor the owner's build, whether its tree differs or is the same.
func TestPrivateModulesStayWithTheirCredentials(t *testing.T) {
	proxy := startPrivateProxy(t, "testdata/privatemod", "example.com/private/greet", "v1.0.0")
	owner := copyDir(t, "../examples/private")
	attrs := func() map[string]string {
		return map[string]string{"build-arg:PRIVATE_GOPROXY": proxy.url, "platform": "linux/amd64", "target": "binaries"}
	}
	if _, err := bed.Build(context.Background(), owner, testenv.BuildOpts{
		Attrs: attrs(), Secrets: map[string][]byte{"netrc": proxy.netrc()}, LocalOutput: t.TempDir(),
	}); err != nil {
		t.Fatalf("the owner's build: %v", err)
	}

	other := copyDir(t, owner)
	appendTo(t, filepath.Join(other, "cmd", "app", "main.go"), "\n// another project's code\n")
	for _, c := range []struct{ name, dir string }{{"the owner's very tree", owner}, {"its own code", other}} {
		name, dir := c.name, c.dir
		res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: attrs(), LocalOutput: t.TempDir()})
		if err == nil {
			t.Errorf("a build without credentials, with %s, got the private module", name)
			continue
		}
		logs := ""
		if res != nil {
			logs = string(res.Logs)
		}
		if !strings.Contains(err.Error()+logs, "401 Unauthorized") {
			t.Errorf("with %s: the build failed, but not at the proxy's refusal: %v\n%s", name, err, logs)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func appendTo(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, append(mustRead(t, name), text...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A client that offers credentials, with the default module settings, has
// a partition of its own: the build started early in the shared one is
// left, and go build runs in the client's partition, where a build
// without credentials finds it cached in the shared one.
func TestCredentialsLeaveTheEarlySharedBuild(t *testing.T) {
	ctx := context.Background()
	dir := copyDir(t, "testdata/twobins")
	step := gbllb.StepGoBuild("linux/amd64", "./cmd/server")
	attrs := map[string]string{"platform": "linux/amd64", "target": "binaries"}
	for i := range 2 {
		res, err := bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs, LocalOutput: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if vertex(t, res, step); i == 1 && ran(res, step) {
			t.Fatal("a build without credentials ran go build again: the shared partition's is not cached")
		}
	}
	netrc := []byte("machine example.invalid login gobuild password not-a-secret\n")
	res, err := bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs, Secrets: map[string][]byte{"netrc": netrc}, LocalOutput: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if vertex(t, res, step); !ran(res, step) {
		t.Error("with credentials, go build did not run: the result is the shared partition's")
	}
}
