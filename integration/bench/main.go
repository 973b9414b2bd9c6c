// Command bench measures gobuild against the usual ways of building a Go
// image, side by side on one BuildKit, and writes docs/benchmarks.md:
//
//	go run ./integration/bench -out docs/benchmarks.md
//
// A is gobuild; B the multi-stage Dockerfile most projects have (no cache
// mounts, built for the target platform); C the best hand-written one
// (--platform=$BUILDPLATFORM, cache mounts, cross-compiled); D go build on
// the host with a warm cache, the floor.
//
// main.go has the flags and the run; scenarios.go the Dockerfiles, the
// edits and the rows each module is measured in; measure.go one timed
// build and the median of several; report.go the tables and the targets;
// binaries.go the several-binaries table; sizes.go the image sizes.
package main

import (
	"bytes"
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

type module struct {
	name, dir, pkg string
	// emulated says whether B is also measured under QEMU for the
	// foreign platforms (slow: minutes per platform).
	emulated bool
	// severalBinaries says the module has cmd/server and cmd/healthcheck,
	// for the several-binaries table.
	severalBinaries bool
}

type tool string

const (
	toolA tool = "A gobuild"
	// toolA0 is gobuild without the dependency layers
	// (GOBUILD_DEPENDENCY_CACHE=mount), as it was before them.
	toolA0 tool = "A0 gobuild, no dependency layers"
	// toolAs is gobuild behind its spec's "# syntax=" line, through
	// BuildKit's Dockerfile frontend and gobuild's image, as users run it.
	toolAs tool = "A' gobuild behind # syntax="
	toolB  tool = "B naive Dockerfile"
	toolC  tool = "C best Dockerfile"
	// toolCs is C behind a "# syntax=" line (BuildKit's Dockerfile
	// frontend from an image): a frontend container starts, as for A
	// through its image.
	toolCs tool = "C' best Dockerfile behind # syntax="
	toolD  tool = "D host go build"
)

type bench struct {
	bed      *testenv.Bed
	runs     int
	coldRuns int
	logf     func(string, ...any)
	// multiArchGo is a golang:1.26 image for the two-platform row, for B
	// under emulation.
	multiArchGo string
	daemons     int
	// rowFilter limits the run to the rows whose name contains it.
	rowFilter string
	// toolFilter, when set, limits the run to these tools (A, A0, A',
	// B, C, C', D).
	toolFilter []string
	// trace logs every step a build ran, with its duration.
	trace bool
	// turnSets counts the inTurns calls, which number their measurements.
	turnSets int
	// checks are the targets, as measured in this run.
	checks []check
	// dockerfileRef and gobuildRef are the frontend images C' and A'
	// name on their "# syntax=" lines.
	dockerfileRef, gobuildRef string
}

// measures says whether the tool is measured in this run.
func (b *bench) measures(t tool) bool {
	letter, _, _ := strings.Cut(string(t), " ")
	return len(b.toolFilter) == 0 || slices.Contains(b.toolFilter, letter)
}

// wants says whether the row named name is measured in this run.
func (b *bench) wants(name string) bool {
	if prefix, ok := strings.CutPrefix(b.rowFilter, "^"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return strings.Contains(name, b.rowFilter)
}

// allPlatforms are the platforms of the 1/2/4-platform rows, native first.
var allPlatforms = []string{"linux/" + runtime.GOARCH, "linux/arm64", "linux/arm/v7", "linux/ppc64le"}

func main() {
	out := flag.String("out", "docs/benchmarks.md", "where to write the report")
	runs := flag.Int("runs", 5, "runs per warm measurement (the median is reported; a warm build varies by ~0.1 s, a tenth of a small service's rebuild)")
	coldRuns := flag.Int("cold-runs", 3, "runs per cold and fresh-builder measurement")
	emulate := flag.Bool("emulate", true, "measure B under QEMU emulation for the foreign platforms (needs qemu-user-static)")
	only := flag.String("only", "", "measure only the modules whose name contains this")
	scenario := flag.String("scenario", "", "measure only the rows whose name contains this, or starts with what follows a leading ^ (the overhead and size tables need it empty)")
	trace := flag.Bool("trace", false, "log every step each build ran, with its duration, each layer's download and extraction, and what gobuild's helper printed")
	tools := flag.String("tools", "", "measure only these tools, comma-separated (A, A0, A', B, C, C', D; the overhead, size, layer and several-binaries tables need them all)")
	flag.Parse()
	var toolFilter []string
	for _, name := range strings.Split(*tools, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "":
		case "A", "A0", "A'", "B", "C", "C'", "D":
			toolFilter = append(toolFilter, name)
		default:
			log.Fatalf("-tools: %q is not one of A, A0, A', B, C, C', D", name)
		}
	}
	if err := run(*out, *runs, *coldRuns, *emulate, *only, *scenario, toolFilter, *trace); err != nil {
		log.Fatal(err)
	}
}

// run measures and writes the report; it returns errors rather than
// exiting, so that the daemons it started are always stopped.
func run(out string, runs, coldRuns int, emulate bool, only, scenario string, toolFilter []string, trace bool) (err error) {
	// Ctrl-C cancels the builds and still stops the daemons.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// A full run leaves gigabytes of daemon state: kept only when the run
	// fails, for its logs.
	dir, err := os.MkdirTemp("", "gobuild-bench-")
	if err != nil {
		return err
	}
	finished := false // false on a panic too
	defer func() {
		if finished && err == nil {
			err = os.RemoveAll(dir)
		} else {
			log.Printf("daemon state and logs kept in %s", dir)
		}
	}()
	bed, err := testenv.Start(ctx, testenv.Options{ToolsDir: "integration/tools", Dir: dir, Log: log.Printf, Emulate: emulate})
	if err != nil {
		return err
	}
	defer bed.Close()
	b := &bench{bed: bed, runs: runs, coldRuns: coldRuns, logf: log.Printf, rowFilter: scenario, toolFilter: toolFilter, trace: trace}
	if emulate {
		b.multiArchGo = bed.Registry + "/golang-multiarch:" + bed.GoVersion
		// The module proxy serves Go releases for amd64 and arm64 only,
		// so B under emulation is measured for two platforms.
		if err := bed.PushMultiArchToolchain(ctx, b.multiArchGo, allPlatforms[:2], log.Printf); err != nil {
			return err
		}
	}

	if err := b.pushFrontends(ctx); err != nil {
		return err
	}

	modules := []module{
		{"small service (examples/hello)", "examples/hello", "cmd/hello", emulate, false},
		{"gRPC server (integration/bench/testdata/grpcsvc)", "integration/bench/testdata/grpcsvc", "cmd/server", false, true},
	}
	modules = slices.DeleteFunc(modules, func(m module) bool { return !strings.Contains(m.name, only) })
	var report bytes.Buffer
	if err := b.report(ctx, &report, modules); err != nil {
		return err
	}
	if err := os.WriteFile(out, report.Bytes(), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s", out)
	finished = true
	return nil
}
