package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gobuildkit/gobuild/internal/localbuildkit"
	"golang.org/x/mod/modfile"
)

// localDir is where the local daemons keep their state and build cache.
func localDir() (string, error) {
	if dir := os.Getenv("GOBUILD_LOCAL_DIR"); dir != "" {
		return dir, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "gobuild", "local"), nil
}

// startLocal returns the local buildkitd and registry, started by an
// earlier run or now. They keep running after this process, so the next
// build finds them warm.
func startLocal(ctx context.Context) (*localbuildkit.Daemons, error) {
	dir, err := localDir()
	if err != nil {
		return nil, err
	}
	if local, err := localbuildkit.Attach(ctx, dir); err == nil {
		fmt.Fprintf(os.Stderr, "gobuild: using the local buildkitd at %s (state in %s; 'gobuild stop' stops it)\n", local.Addr, dir)
		return local, nil
	}
	root, err := checkoutRoot()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "gobuild: starting a local buildkitd, state in %s; it keeps running for the next build ('gobuild stop' stops it)\n", dir)
	return localbuildkit.Start(ctx, localbuildkit.Options{
		ToolsDir: filepath.Join(root, "integration", "tools"),
		Dir:      dir,
		Detach:   true,
		Log:      func(format string, args ...any) { fmt.Fprintf(os.Stderr, "gobuild: "+format+"\n", args...) },
	})
}

// stopLocal stops the local daemons; their cache stays for the next start.
func stopLocal() error {
	dir, err := localDir()
	if err != nil {
		return err
	}
	stopped, err := localbuildkit.StopDetached(dir)
	if err != nil {
		return err
	}
	if stopped {
		fmt.Fprintln(os.Stderr, "gobuild: stopped the local buildkitd; its cache stays in", dir)
	} else {
		fmt.Fprintln(os.Stderr, "gobuild: no local buildkitd is running")
	}
	return nil
}

// checkoutRoot finds the gobuild checkout around the working directory:
// the local daemons are built from its pinned tools module.
func checkoutRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modfile.ModulePath(data) == "github.com/gobuildkit/gobuild" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside a gobuild checkout; set BUILDKIT_HOST to a running buildkitd")
		}
		dir = parent
	}
}
