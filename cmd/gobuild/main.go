// Command gobuild builds a gobuild.yaml into an image without Docker: it
// runs the frontend in-process against BUILDKIT_HOST, or, when that is
// unset and it runs inside a gobuild checkout, against a local buildkitd
// and registry it starts itself (see internal/localbuildkit). The local daemons
// keep running for the next build, with their cache, until gobuild stop.
//
//	gobuild build [-f gobuild.yaml] [--platform p,...] [--target NAME]
//	              [--build-arg K=V] [--build-context NAME=SRC]
//	              [--oci FILE] [--push REF] [--output type=...,...]
//	              [--call outline|targets|check[,format=json]]
//	              [--progress auto|plain|tty|quiet]
//	              [--secret id=ID,src=FILE|env=VAR] [--ssh default[=SOCKET]]
//	              [--cache-from ...] [--cache-to ...]
//	              [--label K=V] [--annotation K=V]
//	              [--tlscacert F --tlscert F --tlskey F] [CONTEXT]
//	gobuild stop
//
// The local daemons' state is in $GOBUILD_LOCAL_DIR, by default
// gobuild/local in the user's cache directory (~/.cache/gobuild/local).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/appcontext"
)

// Exit codes a script can rely on.
const (
	exitBuildFailed = 1
	exitUsage       = 2
)

const usage = `usage: gobuild build [flags] [CONTEXT]   build a gobuild.yaml
       gobuild stop                      stop the local buildkitd
run 'gobuild build --help' for the flags
`

func main() {
	os.Exit(mainCode(os.Args[1:]))
}

func mainCode(args []string) int {
	if len(args) == 1 {
		switch args[0] {
		case "stop":
			if err := stopLocal(); err != nil {
				fmt.Fprintln(os.Stderr, "gobuild:", err)
				return exitBuildFailed
			}
			return 0
		case "-h", "-help", "--help", "help":
			fmt.Print(usage)
			return 0
		}
	}
	if len(args) < 1 || args[0] != "build" {
		fmt.Fprint(os.Stderr, usage)
		return exitUsage
	}
	opts, err := parseFlags(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gobuild:", err)
		fmt.Fprintln(os.Stderr, "run 'gobuild build --help' for the flags")
		return exitUsage
	}
	code, err := interruptible(appcontext.Context(), interruptGrace, func(ctx context.Context) (int, error) { return run(ctx, opts) })
	if err != nil {
		printError(err)
		return exitBuildFailed
	}
	return code
}

// printError prints err and, as buildx does, the spec's lines it points at.
func printError(err error) {
	fmt.Fprintln(os.Stderr, "gobuild:", err)
	for _, s := range errdefs.Sources(err) {
		_ = s.Print(os.Stderr)
	}
}
