package integration

import (
	"bufio"
	"context"
	"debug/elf"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobuildkit/gobuild/integration/testenv"
	gbllb "github.com/gobuildkit/gobuild/llb"
)

// TestDebugTarget builds --target debug and debugs the service as an IDE
// would: the image's entrypoint runs from its rootfs (chroot, the image's
// env and user) with delve listening on loopback; a client speaking
// delve's JSON-RPC API sets a breakpoint in the service, an HTTP request
// hits it, the argument and a local variable have the request's values,
// and the client detaches, which stops the service.
func TestDebugTarget(t *testing.T) {
	images := buildImages(t, "testdata/debugsvc", testenv.BuildOpts{Attrs: map[string]string{"target": "debug", "platform": "linux/amd64"}})
	img := images["linux/amd64"]
	if img == nil {
		t.Fatalf("no linux/amd64 image: %v", slices.Sorted(mapsKeys(images)))
	}
	cfg := img.Config.Config
	if cfg.Labels[gbllb.DebugLabel] != "true" {
		t.Errorf("labels %v lack %s", cfg.Labels, gbllb.DebugLabel)
	}
	if _, ok := cfg.ExposedPorts["2345/tcp"]; !ok {
		t.Errorf("ports %v lack delve's 2345/tcp", cfg.ExposedPorts)
	}
	root := unpackRootfs(t, img)
	// The image's /proc is the runtime's to mount; delve reads it.
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("proc", filepath.Join(root, "proc"), "proc", 0, ""); err != nil {
		t.Fatalf("mounting /proc in the image's rootfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(filepath.Join(root, "proc"), syscall.MNT_DETACH) })

	// The entrypoint and cmd as a runtime runs them, with delve on a free
	// port of loopback instead of :2345.
	apiAddr := "127.0.0.1:" + freePort(t)
	args := append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	i := slices.Index(args, "--listen=:2345")
	if i < 0 {
		t.Fatalf("entrypoint %q has no --listen=:2345", cfg.Entrypoint)
	}
	args[i] = "--listen=" + apiAddr
	cmd := imageCommand(t, root, img, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	serviceAddr := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if addr, ok := strings.CutPrefix(scanner.Text(), "listening on "); ok {
				serviceAddr <- addr
			}
		}
	}()
	var addr string
	select {
	case addr = <-serviceAddr:
	case err := <-exited:
		t.Fatalf("the service under delve exited: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the service under delve did not start listening")
	}

	client := dialDelve(t, apiAddr)
	var state delveCommandOut
	delveCall(t, client, "RPCServer.Command", delveCommand{Name: "halt"}, &state)
	var bp struct{ Breakpoint delveBreakpoint }
	delveCall(t, client, "RPCServer.CreateBreakpoint", struct{ Breakpoint delveBreakpoint }{delveBreakpoint{FunctionName: "main.greet"}}, &bp)
	// The binary keeps its source paths: an IDE maps /src to its workspace.
	if !strings.HasPrefix(bp.Breakpoint.File, "/src/") || !strings.HasSuffix(bp.Breakpoint.File, "cmd/debugsvc/main.go") {
		t.Errorf("breakpoint in %q, want the source path under /src", bp.Breakpoint.File)
	}
	go func() {
		c := http.Client{Timeout: time.Minute}
		if resp, err := c.Get("http://" + addr + "/greet?name=gobuild"); err == nil {
			resp.Body.Close()
		}
	}()
	delveCall(t, client, "RPCServer.Command", delveCommand{Name: "continue"}, &state)
	if th := state.State.CurrentThread; th == nil || th.Breakpoint == nil || th.Breakpoint.ID != bp.Breakpoint.ID {
		t.Fatalf("continue stopped at %+v, not the breakpoint", state.State.CurrentThread)
	}
	scope := delveScope{Scope: delveEvalScope{GoroutineID: -1}, Cfg: delveLoadConfig{MaxStringLen: 64, MaxVariableRecurse: 1, MaxArrayValues: 64, MaxStructFields: -1}}
	var fnArgs struct{ Args []delveVariable }
	delveCall(t, client, "RPCServer.ListFunctionArgs", scope, &fnArgs)
	if got := variable(fnArgs.Args, "name"); got != "gobuild" {
		t.Errorf("at the breakpoint name = %q (args %+v), want the request's gobuild", got, fnArgs.Args)
	}
	// On to the return, where message is set.
	src, err := os.ReadFile("testdata/debugsvc/cmd/debugsvc/main.go")
	if err != nil {
		t.Fatal(err)
	}
	returnLine := slices.IndexFunc(strings.Split(string(src), "\n"), func(l string) bool { return strings.TrimSpace(l) == "return message" }) + 1
	var ret struct{ Breakpoint delveBreakpoint }
	delveCall(t, client, "RPCServer.CreateBreakpoint", struct{ Breakpoint delveBreakpoint }{delveBreakpoint{File: bp.Breakpoint.File, Line: returnLine}}, &ret)
	delveCall(t, client, "RPCServer.Command", delveCommand{Name: "continue"}, &state)
	if th := state.State.CurrentThread; th == nil || th.Breakpoint == nil || th.Breakpoint.ID != ret.Breakpoint.ID {
		t.Fatalf("continue stopped at %+v, not the breakpoint on the return", state.State.CurrentThread)
	}
	var eval struct{ Variable delveVariable }
	delveCall(t, client, "RPCServer.Eval", struct {
		Scope delveEvalScope
		Expr  string
		Cfg   *delveLoadConfig
	}{scope.Scope, "message", &scope.Cfg}, &eval)
	if eval.Variable.Value != "hello, gobuild" {
		t.Errorf("at the return, message = %+v, want \"hello, gobuild\"", eval.Variable)
	}

	// Detaching with kill stops the service and delve's server.
	_ = client.Call("RPCServer.Detach", struct{ Kill bool }{true}, &struct{}{})
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatal("delve did not exit after the client detached")
	}
}

// TestDebugTargetArm64: the arm64 debug image builds, and its delve is an
// arm64 program that runs (under emulation).
func TestDebugTargetArm64(t *testing.T) {
	images := buildImages(t, "testdata/debugsvc", testenv.BuildOpts{Attrs: map[string]string{"target": "debug", "platform": "linux/arm64"}})
	img := images["linux/arm64"]
	if img == nil {
		t.Fatalf("no linux/arm64 image: %v", slices.Sorted(mapsKeys(images)))
	}
	dlv := img.Files[gbllb.DelvePath]
	if dlv == nil {
		t.Fatalf("the image has no %s", gbllb.DelvePath)
	}
	file := writeExecutable(t, dlv)
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("delve is built for %v, want arm64", f.Machine)
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatalf("qemu-aarch64-static is needed to run the arm64 delve (apt-get install -y qemu-user-static): %v", err)
	}
	if out := runBinary(t, nil, qemu, file, "version"); !strings.Contains(out, "Version: 1.27.2") {
		t.Errorf("dlv version = %q", out)
	}
}

// The parts of delve's JSON-RPC API (service/rpc2, API version 2) the test
// speaks, by their JSON names.
type (
	delveCommand struct {
		Name string `json:"name"`
	}
	delveBreakpoint struct {
		ID           int    `json:"id"`
		File         string `json:"file"`
		Line         int    `json:"line"`
		FunctionName string `json:"functionName,omitempty"`
	}
	delveCommandOut struct {
		State struct {
			CurrentThread *struct {
				File       string           `json:"file"`
				Line       int              `json:"line"`
				Breakpoint *delveBreakpoint `json:"breakPoint,omitempty"`
			} `json:"currentThread,omitempty"`
			Goroutine *struct {
				ID int64 `json:"id"`
			} `json:"currentGoroutine,omitempty"`
		}
	}
	delveEvalScope  struct{ GoroutineID, Frame int64 }
	delveLoadConfig struct {
		FollowPointers                                                    bool
		MaxVariableRecurse, MaxStringLen, MaxArrayValues, MaxStructFields int
	}
	delveScope struct {
		Scope delveEvalScope
		Cfg   delveLoadConfig
	}
	delveVariable struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
)

func dialDelve(t *testing.T, addr string) *rpc.Client {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			c := jsonrpc.NewClient(conn)
			t.Cleanup(func() { c.Close() })
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("delve's API at %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func delveCall(t *testing.T, c *rpc.Client, method string, args, reply any) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Call(method, args, reply) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not answer", method)
	}
}

func variable(vars []delveVariable, name string) string {
	for _, v := range vars {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// TestDebugSettingsLeaveTheImageAlone: the image target of a spec is the
// same image, digest for digest, whatever its debug section says.
func TestDebugSettingsLeaveTheImageAlone(t *testing.T) {
	plain := copyDir(t, "testdata/debugsvc")
	withDebug := copyDir(t, "testdata/debugsvc")
	appendFile(t, filepath.Join(withDebug, "gobuild.yaml"), "debug:\n  delve: v1.26.0\n  listen: :40000\n  continue: false\n")
	var digests []string
	for _, dir := range []string{plain, withDebug} {
		res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, res.Layout.Top().Digest.String())
	}
	if digests[0] != digests[1] {
		t.Errorf("the image target's digest moved with the debug section: %s, %s", digests[0], digests[1])
	}
}
