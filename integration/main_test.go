// Package integration tests gobuild end to end against a real buildkitd and
// a real registry, started by the test environment for this test binary.
package integration

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

var (
	bed *testenv.Bed
	ca  *testCA
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		// go test -short ./... is the unit tests alone: no daemon, no tool
		// build, no root.
		fmt.Fprintln(os.Stderr, "integration: skipped with -short")
		return 0
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gobuild-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if ca, err = newTestCA(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := testenv.Start(ctx, testenv.Options{ToolsDir: "tools", Dir: dir, Log: log.Printf, ExtraCACerts: ca.pem, Clients: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: starting the test bed: %v\n", err)
		return 1
	}
	bed = b
	code := m.Run()
	b.Close()
	if dockerConfig != "" {
		os.RemoveAll(dockerConfig)
	}
	if code == 0 {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "integration: daemon logs kept in %s\n", dir)
	}
	return code
}
