// Package testbed starts a real BuildKit daemon and a local registry for the
// integration tests (and for trying gobuild on a machine without Docker):
// it builds the pinned buildkitd and registry from the tools module, starts
// them on a private socket and a loopback port, and pushes a Go toolchain
// image made from the host's own Go installation.
package testbed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

// Bed is a running buildkitd and registry.
type Bed struct {
	// Dir holds the daemons' state, sockets and logs.
	Dir string
	// Addr is the buildkitd address, for client.New and BUILDKIT_HOST.
	Addr string
	// Registry is the registry's host:port, as images name it.
	Registry string
	// Bin is where the tools were built.
	Bin string
	// GoVersion is the host toolchain's version without "go" ("1.26.8"),
	// and GoImage the toolchain image made from it, tagged with its
	// major.minor version ("localhost:PORT/golang:1.26").
	GoVersion string
	GoImage   string

	procs   []*exec.Cmd
	daemons map[string]*exec.Cmd
	detach  bool
}

// Options configure Start.
type Options struct {
	// ToolsDir is the tools module (integration/tools).
	ToolsDir string
	// Dir is the state directory; a temporary one when empty.
	Dir string
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
	// ExtraCACerts (PEM) are trusted by the toolchain image on top of the
	// host's CA bundle, as a company adds its own CA to its builder.
	ExtraCACerts []byte
	// Emulate lets the daemons run foreign-platform steps under the
	// host's qemu-user-static, registered with binfmt_misc (needs root;
	// the registration stays until reboot). Only baselines use it: gobuild
	// cross-compiles.
	Emulate bool
	// Clients also builds buildctl, buildx and the docker CLI, for tests
	// that drive builds the way users do; the daemons alone need neither.
	Clients bool
	// Detach lets the daemons outlive this process, as a background
	// service: Start records them in Dir, Attach finds them again from
	// another process and StopDetached stops them.
	Detach bool
}

// Start builds the tools if needed, starts the registry and buildkitd and
// pushes the toolchain image. Close stops everything.
func Start(ctx context.Context, opt Options) (_ *Bed, retErr error) {
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return nil, errors.New("runc is not installed; buildkitd needs it as its OCI runtime (apt-get install -y runc)")
	}
	dir := opt.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "gobuild-testbed-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	b := &Bed{Dir: dir, daemons: map[string]*exec.Cmd{}, detach: opt.Detach}
	if opt.Emulate {
		if err := registerEmulators(); err != nil {
			return nil, err
		}
	}
	defer func() {
		if retErr != nil {
			b.Close()
		}
	}()

	tools := []string{"github.com/moby/buildkit/cmd/buildkitd", "github.com/distribution/distribution/v3/cmd/registry"}
	if opt.Clients {
		tools = append(tools, "github.com/moby/buildkit/cmd/buildctl", "github.com/docker/buildx/cmd/buildx", "github.com/docker/cli/cmd/docker")
	}
	bin, err := buildTools(ctx, opt.ToolsDir, tools, logf)
	if err != nil {
		return nil, err
	}
	b.Bin = bin

	// A restarted bed keeps its registry's port, so that image names
	// (and the build cache keyed on them) stay valid.
	port, err := previousRegistryPort(dir)
	if err != nil {
		port, err = freePort()
	}
	if err != nil {
		return nil, err
	}
	b.Registry = fmt.Sprintf("localhost:%d", port)
	if err := b.startRegistry(ctx, port); err != nil {
		return nil, err
	}
	logf("registry listening on %s", b.Registry)
	if err := b.startBuildkitd(ctx); err != nil {
		return nil, err
	}
	logf("buildkitd listening on %s", b.Addr)

	if err := b.pushToolchainImage(ctx, opt.ExtraCACerts, logf); err != nil {
		return nil, fmt.Errorf("making the Go toolchain image: %w", err)
	}
	if opt.Detach {
		if err := b.save(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Close stops the daemons. The state directory is left for inspection
// unless it was temporary.
func (b *Bed) Close() {
	for i := len(b.procs) - 1; i >= 0; i-- {
		stop(b.procs[i])
	}
	b.procs = nil
}

// Client connects to the bed's buildkitd.
func (b *Bed) Client(ctx context.Context) (*client.Client, error) {
	return client.New(ctx, b.Addr)
}

// buildTools builds the named tools of the tools module that are not built
// yet, into a directory of the user's cache keyed by that module's content.
func buildTools(ctx context.Context, toolsDir string, tools []string, logf func(string, ...any)) (string, error) {
	sum, err := os.ReadFile(filepath.Join(toolsDir, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("reading the tools module: %w", err)
	}
	mod, err := os.ReadFile(filepath.Join(toolsDir, "go.mod"))
	if err != nil {
		return "", err
	}
	// toolsRecipe changes when the way the tools are built does.
	const toolsRecipe = "versions stamped\n"
	h := sha256.Sum256(append(append([]byte(toolsRecipe), mod...), sum...))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "gobuild-testbed", hex.EncodeToString(h[:8]))
	// A stamp per tool, written once its build succeeded.
	stamp := func(pkg string) string { return filepath.Join(bin, ".built-"+path.Base(pkg)) }
	var missing, names []string
	for _, pkg := range tools {
		if _, err := os.Stat(stamp(pkg)); err != nil {
			missing = append(missing, pkg)
			names = append(names, path.Base(pkg))
		}
	}
	if len(missing) == 0 {
		return bin, nil
	}
	logf("building %s into %s (a few minutes the first time)", strings.Join(names, ", "), bin)
	ldflags, err := versionFlags(ctx, toolsDir)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-ldflags", ldflags, "-o", bin + string(filepath.Separator)}, missing...)...)
	cmd.Dir = toolsDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the tools: %w\n%s", err, out)
	}
	for _, pkg := range missing {
		if err := os.WriteFile(stamp(pkg), nil, 0o644); err != nil {
			return "", err
		}
	}
	return bin, nil
}

// versionFlags stamps the tools' module versions into them, as their
// release builds do, so that `buildkitd --version`, `docker version` and
// `docker buildx version` say which release runs.
func versionFlags(ctx context.Context, toolsDir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Version}}",
		"github.com/moby/buildkit", "github.com/docker/buildx", "github.com/docker/cli")
	cmd.Dir = toolsDir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("listing the tools' versions: %w", err)
	}
	versionVar := map[string]string{
		"github.com/moby/buildkit": "github.com/moby/buildkit/version.Version",
		"github.com/docker/buildx": "github.com/docker/buildx/version.Version",
		"github.com/docker/cli":    "github.com/docker/cli/cli/version.Version",
	}
	var flags []string
	for line := range strings.Lines(string(out)) {
		mod, version, _ := strings.Cut(strings.TrimSpace(line), " ")
		// The docker CLI is CalVer behind +incompatible: v29.7.2+incompatible is 29.7.2.
		if mod == "github.com/docker/cli" {
			version = strings.TrimPrefix(strings.TrimSuffix(version, "+incompatible"), "v")
		}
		flags = append(flags, "-X", versionVar[mod]+"="+version)
	}
	return strings.Join(flags, " "), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs one of the tools in the background, logging to logName.log.
func (b *Bed) start(tool, logName string, args ...string) (*exec.Cmd, error) {
	logFile, err := os.Create(filepath.Join(b.Dir, logName+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(b.Bin, tool), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if b.detach {
		// A session of its own: the terminal's Ctrl-C and hangup stay
		// with the client.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", tool, err)
	}
	b.procs = append(b.procs, cmd)
	return cmd, nil
}

// registerEmulators registers the host's qemu user emulators with the
// kernel's binfmt_misc, as Debian's qemu-user-static describes them, so
// that foreign binaries (and the processes they start) run in containers.
// BuildKit's own emulator hook would wrap only a step's first process.
func registerEmulators() error {
	const binfmt = "/proc/sys/fs/binfmt_misc"
	if _, err := os.Stat(filepath.Join(binfmt, "register")); err != nil {
		if out, err := exec.Command("mount", "-t", "binfmt_misc", "binfmt_misc", binfmt).CombinedOutput(); err != nil {
			return fmt.Errorf("mounting binfmt_misc (needs root): %v: %s", err, out)
		}
	}
	confs, _ := filepath.Glob("/usr/lib/binfmt.d/qemu-*.conf")
	if len(confs) == 0 {
		return errors.New("no qemu binfmt descriptions; apt-get install -y qemu-user-static")
	}
	for _, conf := range confs {
		name := strings.TrimSuffix(filepath.Base(conf), ".conf")
		if _, err := os.Stat(filepath.Join(binfmt, name)); err == nil {
			continue // registered already
		}
		line, err := os.ReadFile(conf)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(binfmt, "register"), bytes.TrimSpace(line), 0o200); err != nil {
			return fmt.Errorf("registering %s: %w", name, err)
		}
	}
	return nil
}

// stop interrupts a process and waits for it, killing it after a while.
func stop(p *exec.Cmd) {
	if p.Process == nil {
		return
	}
	_ = p.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.Process.Kill()
		<-done
	}
}

func (b *Bed) startRegistry(ctx context.Context, port int) error {
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: 127.0.0.1:%d
`, filepath.Join(b.Dir, "registry"), port)
	cfgPath := filepath.Join(b.Dir, "registry.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	if _, err := b.start("registry", "registry", "serve", cfgPath); err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/v2/", port)
	return b.waitFor(ctx, "registry", func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
}

func (b *Bed) startBuildkitd(ctx context.Context) error {
	b.Addr = "unix://" + filepath.Join(b.Dir, "buildkitd.sock")
	return b.StartDaemon(ctx, "buildkitd", b.Addr, nil)
}

// StartDaemon starts one more buildkitd with its own state, named name,
// listening on addr, trusting the bed's registry; extraArgs go to
// buildkitd (--tlscert, ...) and clientOpts to the readiness check. Close
// stops it with the rest.
func (b *Bed) StartDaemon(ctx context.Context, name, addr string, clientOpts []client.ClientOpt, extraArgs ...string) error {
	cfg := fmt.Sprintf(`[worker.oci]
  enabled = true
  gc = false
[worker.containerd]
  enabled = false
[registry.%q]
  http = true
  insecure = true
`, b.Registry)
	cfgPath := filepath.Join(b.Dir, name+".toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	args := append([]string{"--root", filepath.Join(b.Dir, name), "--addr", addr, "--config", cfgPath}, extraArgs...)
	cmd, err := b.start("buildkitd", name, args...)
	if err != nil {
		return err
	}
	b.daemons[name] = cmd
	return b.waitFor(ctx, name, func() error {
		c, err := client.New(ctx, addr, clientOpts...)
		if err != nil {
			return err
		}
		defer c.Close()
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err = c.ListWorkers(wctx)
		return err
	})
}

// StopDaemon stops a daemon StartDaemon started and deletes its state, as
// an ephemeral CI builder goes away.
func (b *Bed) StopDaemon(name string) error {
	cmd, ok := b.daemons[name]
	if !ok {
		return fmt.Errorf("no daemon named %q", name)
	}
	stop(cmd)
	delete(b.daemons, name)
	b.procs = slices.DeleteFunc(b.procs, func(p *exec.Cmd) bool { return p == cmd })
	return os.RemoveAll(filepath.Join(b.Dir, name))
}

func (b *Bed) waitFor(ctx context.Context, name string, ready func() error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			logTail, _ := os.ReadFile(filepath.Join(b.Dir, name+".log"))
			if len(logTail) > 4000 {
				logTail = logTail[len(logTail)-4000:]
			}
			return fmt.Errorf("%s did not become ready: %w\n%s", name, err, logTail)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// hostGo returns the host toolchain's GOROOT and version.
func hostGo() (goroot, version string, err error) {
	out, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(bytes.TrimSpace(out))), "\n")
	if len(lines) != 2 {
		return "", "", fmt.Errorf("unexpected go env output %q", out)
	}
	return lines[0], strings.TrimPrefix(lines[1], "go"), nil
}

// minorVersion turns "1.26.8" into "1.26", the tag go.mod's "go 1.26" asks
// for.
func minorVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
