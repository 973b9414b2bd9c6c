package localbuildkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

// stateFile records detached daemons in their directory.
const stateFile = "bed.json"

type savedState struct {
	Addr, Registry, Bin, GoVersion, GoImage string
	Pids                                    []int
}

func (b *Daemons) save() error {
	s := savedState{Addr: b.Addr, Registry: b.Registry, Bin: b.Bin, GoVersion: b.GoVersion, GoImage: b.GoImage}
	for _, p := range b.procs {
		s.Pids = append(s.Pids, p.Process.Pid)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	// Detached daemons are not this process's to stop any more.
	b.procs = nil
	return os.WriteFile(filepath.Join(b.Dir, stateFile), data, 0o644)
}

func load(dir string) (*savedState, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s savedState
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// Attach returns the detached daemons recorded in dir if its buildkitd and
// registry still answer.
func Attach(ctx context.Context, dir string) (*Daemons, error) {
	s, err := load(dir)
	if err != nil {
		return nil, err
	}
	resp, err := http.Get("http://" + s.Registry + "/v2/")
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", s.Registry, err)
	}
	resp.Body.Close()
	c, err := client.New(ctx, s.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := c.ListWorkers(wctx); err != nil {
		return nil, fmt.Errorf("buildkitd %s: %w", s.Addr, err)
	}
	return &Daemons{Dir: dir, Addr: s.Addr, Registry: s.Registry, Bin: s.Bin, GoVersion: s.GoVersion, GoImage: s.GoImage}, nil
}

// StopDetached stops the detached daemons recorded in dir, if any, and
// reports whether there were some. Its state (the build cache) stays.
func StopDetached(dir string) (bool, error) {
	s, err := load(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for i := len(s.Pids) - 1; i >= 0; i-- {
		// A recorded pid may since have gone to another program.
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.Pids[i])); err == nil && filepath.Dir(exe) == s.Bin {
			stopPid(s.Pids[i])
		}
	}
	return true, os.Remove(filepath.Join(dir, stateFile))
}

// stopPid interrupts a process that is not our child and waits for it to
// go, killing it after a while.
func stopPid(pid int) {
	p, err := os.FindProcess(pid)
	if err != nil || p.Signal(syscall.Signal(0)) != nil {
		return
	}
	_ = p.Signal(os.Interrupt)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
	}
	_ = p.Kill()
}

// previousRegistryPort is the port the registry recorded in dir used, if
// it is free again.
func previousRegistryPort(dir string) (int, error) {
	s, err := load(dir)
	if err != nil {
		return 0, err
	}
	_, portText, err := net.SplitHostPort(s.Registry)
	if err != nil {
		return 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return 0, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", portText))
	if err != nil {
		return 0, err
	}
	l.Close()
	return port, nil
}
