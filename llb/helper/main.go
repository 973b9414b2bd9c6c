//go:build ignore

// Command gobuild-helper is the frontend's own program in the build's
// steps: prebuilt in the frontend image, or else built by the builder's go
// from this directory's main.go, modcache.go, gocache.go and goroot.go (standard
// library only, so that any supported toolchain compiles it), once per
// builder image. One program, so that the build that is exported to a
// registry cache (go build runs behind it) carries the helper the module
// cache partition needs too.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
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
	case "sources":
		err = sourcesCommand(os.Args[2:])
	case "subset":
		err = subsetCommand(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want id, export, seed, report, sources or subset", command)
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
