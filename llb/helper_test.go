package llb

import (
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// buildHelper builds the helper from its sources, as helperProgram does.
func buildHelper(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the helper with go")
	}
	helper := filepath.Join(t.TempDir(), "gobuild-helper")
	args := []string{"build", "-o", helper}
	for _, name := range HelperSourceFiles {
		args = append(args, filepath.Join("helper", name))
	}
	build := exec.Command("go", args...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return helper
}

// The module cache helper, built as the frontend builds it in the builder,
// names partitions by credentials and settings, and fails rather than
// guess when it cannot read them.
func TestModcacheHelper(t *testing.T) {
	dir := t.TempDir()
	helper := buildHelper(t)
	netrcA, netrcB := filepath.Join(dir, "netrc-a"), filepath.Join(dir, "netrc-b")
	for name, text := range map[string]string{netrcA: "machine a login u password one\n", netrcB: "machine a login u password two\n"} {
		if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	partition := func(env ...string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "name")
		cmd := exec.Command(helper, append([]string{"id", out}, partitionSettings...)...)
		cmd.Env = env
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gobuild-helper id: %v\n%s", err, msg)
		}
		name, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(name)
	}
	missing := "NETRC=" + filepath.Join(dir, "absent")
	agentAB := fakeAgent(t, 12, "key-a", "comment 1", "key-b", "comment 2")
	agentBA := fakeAgent(t, 12, "key-b", "other", "key-a", "comments")
	agentC := fakeAgent(t, 12, "key-c", "")
	agentNone := fakeAgent(t, 12)
	for _, tc := range []struct {
		name string
		a, b []string
		same bool
	}{
		{"no credentials, default settings", []string{missing}, []string{missing, "GOFLAGS=-mod=mod"}, true},
		{"a private setting", []string{missing}, []string{missing, "GOPRIVATE=example.com"}, false},
		{"a netrc", []string{missing}, []string{"NETRC=" + netrcA}, false},
		{"another netrc", []string{"NETRC=" + netrcA}, []string{"NETRC=" + netrcB}, false},
		{"the same netrc", []string{"NETRC=" + netrcA}, []string{"NETRC=" + netrcA}, true},
		{"an agent's keys, in any order", []string{missing, "SSH_AUTH_SOCK=" + agentAB}, []string{missing, "SSH_AUTH_SOCK=" + agentBA}, true},
		{"another agent's keys", []string{missing, "SSH_AUTH_SOCK=" + agentAB}, []string{missing, "SSH_AUTH_SOCK=" + agentC}, false},
		{"an agent without keys", []string{missing}, []string{missing, "SSH_AUTH_SOCK=" + agentNone}, true},
		{"no agent where the socket would be", []string{missing}, []string{missing, "SSH_AUTH_SOCK=" + filepath.Join(dir, "absent.sock")}, true},
		{"the same netrc, another proxy", []string{"NETRC=" + netrcA, "GOPROXY=https://a"}, []string{"NETRC=" + netrcA, "GOPROXY=https://b"}, false},
	} {
		a, b := partition(tc.a...), partition(tc.b...)
		if (a == b) != tc.same {
			t.Errorf("%s: partitions %q and %q, want same=%v", tc.name, a, b, tc.same)
		}
		if strings.Contains(a+b, "one") || strings.Contains(a+b, "two") {
			t.Errorf("%s: a partition name holds the password", tc.name)
		}
	}
	broken := exec.Command(helper, append([]string{"id", filepath.Join(dir, "name")}, partitionSettings...)...)
	broken.Env = []string{missing, "SSH_AUTH_SOCK=" + fakeAgent(t, 5)}
	if out, err := broken.CombinedOutput(); err == nil {
		t.Errorf("an agent that answers with a failure gave a partition: %s", out)
	}
	if got := partition(missing); got != "shared" {
		t.Errorf("no credentials and default settings: partition %q, want shared", got)
	}
}

// fakeAgent serves one SSH agent identities answer of the given type with
// the given key blobs and comments, to every connection, on a socket.
func fakeAgent(t *testing.T, answerType byte, keysAndComments ...string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	body := []byte{answerType}
	body = binary.BigEndian.AppendUint32(body, uint32(len(keysAndComments)/2))
	for _, s := range keysAndComments {
		body = binary.BigEndian.AppendUint32(body, uint32(len(s)))
		body = append(body, s...)
	}
	answer := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	answer = append(answer, body...)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			request := make([]byte, 5)
			if _, err := io.ReadFull(conn, request); err == nil {
				_, _ = conn.Write(answer)
			}
			conn.Close()
		}
	}()
	return sock
}

// With the frontend image's helper, no step compiles the helper, and the
// partition runs in that image, so that it waits for no pull of the
// builder; without it the builder's go compiles the helper.
func TestPrebuiltHelper(t *testing.T) {
	frontendImage := bkllb.Image("registry.example/gobuild:v1")
	for _, tc := range []struct {
		name     string
		prebuilt bool
	}{{"compiled by the builder", false}, {"from the frontend image", true}} {
		t.Run(tc.name, func(t *testing.T) {
			mod := func(o *Options) {
				o.ModulePath, o.CacheImported = "example.com/x", true
				o.Imports = ReadImports(depsTestFiles)
				if tc.prebuilt {
					o.PrebuiltHelper = &frontendImage
				}
			}
			s, opt := testInput(t, testSpec, "linux/arm64", mod)
			partition, err := Partition(s, opt)
			if err != nil {
				t.Fatal(err)
			}
			partitionSteps := marshalSteps(t, partition, opt)
			imageSteps, _ := convert(t, testSpec, "linux/arm64", mod)
			for what, steps := range map[string][]step{"partition": partitionSteps, "image": imageSteps} {
				var compiles bool
				var images []string
				for _, st := range steps {
					compiles = compiles || st.name == StepHelper
					if src := st.op.GetSource(); src != nil {
						images = append(images, src.Identifier)
					}
				}
				if compiles == tc.prebuilt {
					t.Errorf("%s: a step compiles the helper: %v, want %v", what, compiles, !tc.prebuilt)
				}
				if what == "partition" && tc.prebuilt && slices.ContainsFunc(images, func(id string) bool { return strings.Contains(id, "golang") }) {
					t.Errorf("the partition needs the builder image: %q", images)
				}
			}
			_, _, build := depsSteps(t, testSpec, "linux/arm64", depsTestFiles, mod)
			var helper *pb.Mount
			for _, m := range build.op.GetExec().Mounts {
				if m.Dest == helperDir {
					helper = m
				}
			}
			switch {
			case helper == nil:
				t.Fatal("go build does not mount the helper")
			case !helper.Readonly:
				t.Error("go build mounts the helper writable: its content would not be its cache key")
			case tc.prebuilt && helper.Selector != PrebuiltHelperDir:
				t.Errorf("go build mounts %q of the frontend image, want %q", helper.Selector, PrebuiltHelperDir)
			}
		})
	}
}

// A layer the helper exports holds a package's compiled entries flat, and
// seeding an empty cache from it leaves go build only the main package to
// compile.
func TestGocacheHelperRoundTrip(t *testing.T) {
	helper := buildHelper(t)
	module, layer := t.TempDir(), t.TempDir()
	for name, text := range map[string]string{
		"go.mod":  "module example.com/roundtrip\n\ngo 1.21\n",
		"main.go": "package main\n\nimport \"strings\"\n\nfunc main() { println(strings.ToUpper(\"ok\")) }\n",
	} {
		if err := os.WriteFile(filepath.Join(module, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(cache string, args ...string) string {
		t.Helper()
		cmd := exec.Command(helper, args...)
		cmd.Dir = module
		cmd.Env = append(os.Environ(), "GOCACHE="+cache, "CGO_ENABLED=0", "GOFLAGS=", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gobuild-helper %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// The packages follow the last --: without one, or with none after
	// it, the helper refuses rather than exporting nothing.
	for _, args := range [][]string{{"export", layer, "strings"}, {"export", layer, "-trimpath", "--"}, {"export", "--", "strings"}} {
		cmd := exec.Command(helper, args...)
		cmd.Dir = module
		cmd.Env = append(os.Environ(), "GOCACHE="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "usage:") {
			t.Errorf("gobuild-helper %s: %v, want the usage\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(t.TempDir(), "export", layer, "--", "strings")
	entries, err := os.ReadDir(layer)
	if err != nil {
		t.Fatal(err)
	}
	var files int
	for _, e := range entries {
		if e.IsDir() {
			t.Errorf("the layer has a directory %s: its entries belong flat", e.Name())
		}
		files++
	}
	if files < 3 {
		t.Fatalf("the layer holds %d files, want the stamp and entries of strings and its dependencies", files)
	}
	out := run(t.TempDir(), "seed", layer, "--", "go", "build", "-v", "-o", filepath.Join(t.TempDir(), "roundtrip"), ".")
	var compiled []string
	for _, line := range strings.Split(out, "\n") {
		if line != "" && !strings.HasPrefix(line, "gobuild-helper:") {
			compiled = append(compiled, line)
		}
	}
	if !slices.Equal(compiled, []string{"example.com/roundtrip"}) {
		t.Errorf("go build after the seed compiled %q, want only the main package\n%s", compiled, out)
	}
}

// place runs go build and leaves its output as the binaries' layer: each
// binary moved to its place, go's own directory gone, everything dated at
// the Unix epoch; a failing command's status is the helper's, and nothing
// is moved.
func TestPlaceHelper(t *testing.T) {
	helper := buildHelper(t)
	module := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":     "module example.com/placed\n\ngo 1.21\n",
		"a/main.go":  "package main\n\nfunc main() {}\n",
		"b/main.go":  "package main\n\nfunc main() {}\n",
		"bad/bad.go": "package main\n\nfunc main() { undefined() }\n",
	} {
		writeFile(t, filepath.Join(module, name), text)
	}
	place := func(out string, args ...string) ([]byte, error) {
		cmd := exec.Command(helper, append([]string{"place", out}, args...)...)
		cmd.Dir = module
		cmd.Env = append(os.Environ(), "GOCACHE="+t.TempDir(), "CGO_ENABLED=0", "GOFLAGS=", "GOTOOLCHAIN=local")
		return cmd.CombinedOutput()
	}
	out := t.TempDir()
	if msg, err := place(out, ".gobuild/a", "usr/local/bin/first", ".gobuild/b", "usr/local/bin/second",
		"--", "go", "build", "-o", filepath.Join(out, ".gobuild")+"/", "./a", "./b"); err != nil {
		t.Fatalf("gobuild-helper place: %v\n%s", err, msg)
	}
	var got []string
	err := filepath.WalkDir(out, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.ModTime().Equal(time.Unix(0, 0)) {
			t.Errorf("%s is dated %v, want the Unix epoch", name, info.ModTime())
		}
		rel, _ := filepath.Rel(out, name)
		got = append(got, rel+" "+info.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{". " + mustMode(t, out), "usr drwxr-xr-x", "usr/local drwxr-xr-x", "usr/local/bin drwxr-xr-x",
		"usr/local/bin/first -rwxr-xr-x", "usr/local/bin/second -rwxr-xr-x"}
	if !slices.Equal(got, want) {
		t.Errorf("the layer holds %q, want %q", got, want)
	}

	failed := t.TempDir()
	msg, err := place(failed, ".gobuild/bad", "usr/local/bin/bad", "--", "go", "build", "-o", filepath.Join(failed, ".gobuild", "bad"), "./bad")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(msg), "undefined") {
		t.Errorf("a failing go build: %v, want its exit status 1 and its error\n%s", err, msg)
	}
	if entries, _ := os.ReadDir(failed); len(entries) != 0 {
		t.Errorf("a failing go build left %d entries in its output", len(entries))
	}
	for _, args := range [][]string{{"a", "--", "true"}, {"a", "b"}, {"a", "b", "--"}} {
		if msg, err := place(t.TempDir(), args...); err == nil || !strings.Contains(string(msg), "usage:") {
			t.Errorf("gobuild-helper place OUT %q: %v, want the usage\n%s", args, err, msg)
		}
	}
}

func mustMode(t *testing.T, name string) string {
	t.Helper()
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().String()
}
