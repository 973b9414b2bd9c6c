//go:build ignore

// Command gobuild-helper is the frontend's own program in the build's
// steps: prebuilt in the frontend image, or else built by the builder's go
// from this directory's main.go, modcache.go, gocache.go and goroot.go (standard
// library only, and none newer than Go 1.21's, so that the builder of a
// module whose go.mod says go 1.21 compiles it: see llb.HelperMinimumGo), once per
// builder image. One program, so that the build that is exported to a
// registry cache (go build runs behind it) carries the helper the module
// cache partition needs too.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	var err error
	switch command := append(os.Args[1:], "")[0]; command {
	case "id":
		err = idCommand(os.Args[2:])
	case "export", "seed":
		err = gocacheCommand(command, os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	case "place":
		err = place(os.Args[2:])
	case "reached":
		err = reachedCommand(os.Args[2:])
	case "sources":
		err = sourcesCommand(os.Args[2:])
	case "subset":
		err = subsetCommand(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want id, export, seed, report, place, reached, sources or subset", command)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobuild-helper:", err)
		os.Exit(1)
	}
}

// report runs a command (report FILE -- COMMAND...) with its standard
// output both printed and kept in FILE, and exits with its status: a
// check's report is the step's output, and its verdict the step's.
func report(args []string) error {
	if len(args) < 3 || args[1] != "--" {
		return fmt.Errorf("usage: gobuild-helper report FILE -- COMMAND...")
	}
	out, err := os.Create(args[0])
	if err != nil {
		return err
	}
	cmd := exec.Command(args[2], args[3:]...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(os.Stdout, out), os.Stderr
	runErr := cmd.Run()
	if err := out.Close(); err != nil {
		return err
	}
	var exit *exec.ExitError
	if errors.As(runErr, &exit) {
		os.Exit(exit.ExitCode())
	}
	return runErr
}

// place runs a command that writes files into OUT (place OUT [FROM TO]...
// -- COMMAND...), moves each FROM to TO inside OUT and dates everything in
// OUT at the Unix epoch, so that OUT is an image layer as it stands: go
// build's output becomes the binaries' layer without a copy. The names
// are relative to OUT; each TO and its parents are made 0755.
func place(args []string) error {
	sep := slices.Index(args, "--")
	if sep < 1 || sep%2 == 0 || sep == len(args)-1 {
		return fmt.Errorf("usage: gobuild-helper place OUT [FROM TO]... -- COMMAND...")
	}
	out, moves, command := args[0], args[1:sep], args[sep+1:]
	if err := runAs(exec.Command(command[0], command[1:]...)); err != nil {
		return err
	}
	for i := 0; i < len(moves); i += 2 {
		from, to := filepath.Join(out, moves[i]), filepath.Join(out, moves[i+1])
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
		// The layer's modes are its own, not the container's umask.
		for name := moves[i+1]; name != "." && name != "/"; name = filepath.Dir(name) {
			if err := os.Chmod(filepath.Join(out, name), 0o755); err != nil {
				return err
			}
		}
		// The directories the move emptied (go build's own) go; a
		// directory still holding something stays, and ends the climb.
		for dir := filepath.Dir(moves[i]); dir != "." && dir != "/"; dir = filepath.Dir(dir) {
			if os.Remove(filepath.Join(out, dir)) != nil {
				break
			}
		}
	}
	epoch := time.Unix(0, 0)
	return filepath.WalkDir(out, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err // a link would date what it names
		}
		return os.Chtimes(name, epoch, epoch)
	})
}

// reachedCommand runs a command with the layer of the module packages the
// go builds reach as its module cache (reached DIR -- COMMAND...): DIR
// holds that layer's one directory, named by its contents (subsetKey),
// or nothing when the subset could not be listed; go then downloads into
// DIR/whole what it needs, as into any empty cache.
func reachedCommand(args []string) error {
	if len(args) < 3 || args[1] != "--" {
		return fmt.Errorf("usage: gobuild-helper reached DIR -- COMMAND...")
	}
	entries, err := os.ReadDir(args[0])
	if err != nil {
		return err
	}
	cache := filepath.Join(args[0], "whole")
	if len(entries) == 1 && entries[0].IsDir() {
		cache = filepath.Join(args[0], entries[0].Name())
	}
	return execInPlace(args[2:], "GOMODCACHE="+cache)
}

// execInPlace replaces the helper with command, in the helper's
// environment with env's variables set: the step's status is then the
// command's own. A variable env sets is dropped from the environment
// first, since a program reads the first of two.
func execInPlace(command []string, env ...string) error {
	path, err := exec.LookPath(command[0])
	if err != nil {
		return err
	}
	environ := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return slices.ContainsFunc(env, func(set string) bool {
			name, _, _ := strings.Cut(set, "=")
			return strings.HasPrefix(kv, name+"=")
		})
	})
	return syscall.Exec(path, command, append(environ, env...))
}

// runAs runs cmd with the helper's standard streams and, if it fails,
// exits with its status, so that the step fails as the command did.
func runAs(cmd *exec.Cmd) error {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	return err
}
