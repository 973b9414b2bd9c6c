// Package localbuildkit runs the BuildKit daemon and the registry that the
// gobuild CLI builds against when BUILDKIT_HOST is unset, on a machine
// without Docker: it builds the pinned buildkitd and registry from the
// tools module, starts them on a private socket and a loopback port, and
// pushes a Go toolchain image made from the host's own Go installation.
// The daemons can outlive the process (Options.Detach), to be found again
// with Attach and stopped with StopDetached.
//
// The integration tests' environment (integration/testenv) builds on it.
package localbuildkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

// Daemons are a running buildkitd and registry.
type Daemons struct {
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

	procs  []*exec.Cmd
	detach bool
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
	// ExtraTools are more packages of the tools module to build into Bin
	// alongside the daemons, in the same go build.
	ExtraTools []string
	// Detach lets the daemons outlive this process, as a background
	// service: Start records them in Dir, Attach finds them again from
	// another process and StopDetached stops them.
	Detach bool
}

// Start builds the tools if needed, starts the registry and buildkitd and
// pushes the toolchain image. Close stops everything.
func Start(ctx context.Context, opt Options) (_ *Daemons, retErr error) {
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
	b := &Daemons{Dir: dir, detach: opt.Detach}
	defer func() {
		if retErr != nil {
			b.Close()
		}
	}()

	tools := append([]string{"github.com/moby/buildkit/cmd/buildkitd", "github.com/distribution/distribution/v3/cmd/registry"}, opt.ExtraTools...)
	bin, err := buildTools(ctx, opt.ToolsDir, tools, logf)
	if err != nil {
		return nil, err
	}
	b.Bin = bin

	// Restarted daemons keep the registry's port, so that image names
	// (and the build cache keyed on them) stay valid.
	port, err := previousRegistryPort(dir)
	if err != nil {
		port, err = FreePort()
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
func (b *Daemons) Close() {
	for i := len(b.procs) - 1; i >= 0; i-- {
		stop(b.procs[i])
	}
	b.procs = nil
}

// Client connects to the buildkitd.
func (b *Daemons) Client(ctx context.Context) (*client.Client, error) {
	return client.New(ctx, b.Addr)
}

// FreePort returns a TCP port of the loopback interface that nothing
// listens on at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs one of the tools in the background, logging to logName.log.
// The caller keeps the process, to stop it.
func (b *Daemons) start(tool, logName string, args ...string) (*exec.Cmd, error) {
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
	return cmd, nil
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

func (b *Daemons) startRegistry(ctx context.Context, port int) error {
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
	cmd, err := b.start("registry", "registry", "serve", cfgPath)
	if err != nil {
		return err
	}
	b.procs = append(b.procs, cmd)
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

func (b *Daemons) startBuildkitd(ctx context.Context) error {
	b.Addr = "unix://" + filepath.Join(b.Dir, "buildkitd.sock")
	cmd, err := b.launchBuildkitd(ctx, "buildkitd", b.Addr, nil)
	if cmd != nil {
		b.procs = append(b.procs, cmd)
	}
	return err
}

// Buildkitd is a buildkitd that StartBuildkitd started.
type Buildkitd struct{ cmd *exec.Cmd }

// Stop interrupts the daemon and waits for it to exit, killing it after a
// while. Its state stays.
func (k *Buildkitd) Stop() { stop(k.cmd) }

// StartBuildkitd starts one more buildkitd, named name, with its state in
// Dir/name and its log in Dir/name.log, listening on addr and trusting the
// registry; extraArgs go to buildkitd (--tlscert, ...) and clientOpts to
// the readiness check. It is the caller's to stop: Close leaves it.
func (b *Daemons) StartBuildkitd(ctx context.Context, name, addr string, clientOpts []client.ClientOpt, extraArgs ...string) (*Buildkitd, error) {
	cmd, err := b.launchBuildkitd(ctx, name, addr, clientOpts, extraArgs...)
	if err != nil {
		if cmd != nil {
			stop(cmd)
		}
		return nil, err
	}
	return &Buildkitd{cmd}, nil
}

// launchBuildkitd starts a buildkitd and waits until it answers. The
// process is returned once started, even when it never became ready.
func (b *Daemons) launchBuildkitd(ctx context.Context, name, addr string, clientOpts []client.ClientOpt, extraArgs ...string) (*exec.Cmd, error) {
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
		return nil, err
	}
	args := append([]string{"--root", filepath.Join(b.Dir, name), "--addr", addr, "--config", cfgPath}, extraArgs...)
	cmd, err := b.start("buildkitd", name, args...)
	if err != nil {
		return nil, err
	}
	return cmd, b.waitFor(ctx, name, func() error {
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

func (b *Daemons) waitFor(ctx context.Context, name string, ready func() error) error {
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

// MinorVersion turns "1.26.8" into "1.26", the tag go.mod's "go 1.26" asks
// for.
func MinorVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
