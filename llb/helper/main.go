//go:build ignore

// Command gobuild-helper is the frontend's own program in the builder:
// built by the builder's go from this directory's main.go, modcache.go and
// gocache.go (standard library only, so that any supported toolchain
// compiles it), once per builder image. One program, so that the build
// that is exported to a registry cache (go build runs behind it) carries
// the helper the module cache partition needs too.
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	switch command := append(os.Args[1:], "")[0]; command {
	case "id":
		err = idCommand(os.Args[2:])
	case "export", "seed":
		err = gocacheCommand(command, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want id, export or seed", command)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobuild-helper:", err)
		os.Exit(1)
	}
}
