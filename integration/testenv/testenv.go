// Package testenv is the environment of the integration tests and the
// benchmark: the local buildkitd, registry and toolchain image of
// internal/localbuildkit, plus what only tests need: qemu emulators, more
// daemons started and stopped on demand, multi-platform toolchain images,
// the client tools (buildctl, buildx, the docker CLI), in-process builds of
// a spec and a reader of the OCI layouts they export.
//
// It is a normal package, not a _test one, so that the benchmark (a
// command) can import it; nothing outside integration/ does.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gobuildkit/gobuild/internal/localbuildkit"
	"github.com/moby/buildkit/client"
)

// Bed is a running buildkitd and registry, with the tests' extras.
type Bed struct {
	*localbuildkit.Daemons

	// extras are the daemons StartDaemon started, in order.
	extras []extra
}

type extra struct {
	name string
	kit  *localbuildkit.Buildkitd
	disk *loopDisk // nil when the state is on the bed's disk
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
}

// clientTools are the tools module's clients, built into Bin with Clients.
var clientTools = []string{"github.com/moby/buildkit/cmd/buildctl", "github.com/docker/buildx/cmd/buildx", "github.com/docker/cli/cmd/docker"}

// Start builds the tools if needed, starts the registry and buildkitd and
// pushes the toolchain image. Close stops everything.
func Start(ctx context.Context, opt Options) (*Bed, error) {
	if opt.Emulate {
		if err := registerEmulators(); err != nil {
			return nil, err
		}
	}
	lopt := localbuildkit.Options{ToolsDir: opt.ToolsDir, Dir: opt.Dir, Log: opt.Log, ExtraCACerts: opt.ExtraCACerts}
	if opt.Clients {
		lopt.ExtraTools = clientTools
	}
	d, err := localbuildkit.Start(ctx, lopt)
	if err != nil {
		return nil, err
	}
	return &Bed{Daemons: d}, nil
}

// Close stops the daemons, the last started first. The state directory is
// left for inspection (a daemon's own filesystem as its image, unmounted).
func (b *Bed) Close() {
	for i := len(b.extras) - 1; i >= 0; i-- {
		b.extras[i].kit.Stop()
		if d := b.extras[i].disk; d != nil {
			if err := d.unmount(); err != nil {
				fmt.Fprintln(os.Stderr, "testenv:", err)
			}
		}
	}
	b.extras = nil
	b.Daemons.Close()
}

// StartDaemon starts one more buildkitd with its own state, named name,
// listening on addr, trusting the bed's registry; extraArgs go to
// buildkitd (--tlscert, ...) and clientOpts to the readiness check. Close
// stops it with the rest.
func (b *Bed) StartDaemon(ctx context.Context, name, addr string, clientOpts []client.ClientOpt, extraArgs ...string) error {
	kit, err := b.StartBuildkitd(ctx, name, addr, clientOpts, extraArgs...)
	if err != nil {
		return err
	}
	b.extras = append(b.extras, extra{name: name, kit: kit})
	return nil
}

// StartDaemonOnNewDisk starts a daemon as StartDaemon does, with its state
// on a filesystem made for it, as a hosted CI runner's builder starts on a
// disk of its own. On the bed's disk, which has no journal, it would pay
// for the removal of the previous daemon's state: ext4 without a journal
// skips inodes deleted in the last minutes when it makes a file
// (docs/design.md, "Targets not met"). StopDaemon deletes the filesystem.
func (b *Bed) StartDaemonOnNewDisk(ctx context.Context, name, addr string) error {
	root := filepath.Join(b.Dir, name)
	disk, err := makeLoopDisk(root+".ext4", root)
	if err != nil {
		return err
	}
	kit, err := b.StartBuildkitd(ctx, name, addr, nil)
	if err != nil {
		return errors.Join(err, disk.remove())
	}
	b.extras = append(b.extras, extra{name: name, kit: kit, disk: disk})
	return nil
}

// StopDaemon stops a daemon StartDaemon or StartDaemonOnNewDisk started
// and deletes its state, as an ephemeral CI builder goes away. A daemon
// whose state it cannot delete stays listed, so that Close unmounts its
// filesystem.
func (b *Bed) StopDaemon(name string) error {
	i := slices.IndexFunc(b.extras, func(e extra) bool { return e.name == name })
	if i < 0 {
		return fmt.Errorf("no daemon named %q", name)
	}
	e := b.extras[i]
	e.kit.Stop()
	var err error
	if e.disk != nil {
		err = e.disk.remove()
	} else {
		err = os.RemoveAll(filepath.Join(b.Dir, name))
	}
	if err != nil {
		return err
	}
	b.extras = slices.Delete(b.extras, i, i+1)
	return nil
}

// Prune empties the build cache of the bed's buildkitd.
func (b *Bed) Prune(ctx context.Context) error {
	c, err := b.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Prune(ctx, nil, client.PruneAll)
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
