// Command bench measures gobuild against the usual ways of building a Go
// image, side by side on one BuildKit, and writes docs/benchmarks.md:
//
//	go run ./integration/bench -out docs/benchmarks.md
//
// A is gobuild; B the multi-stage Dockerfile most projects have (no cache
// mounts, built for the target platform); C the best hand-written one
// (--platform=$BUILDPLATFORM, cache mounts, cross-compiled); D go build on
// the host with a warm cache, the floor.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/frontend"
	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client"
	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
)

// naiveDockerfile is B: what most Go projects have. Its RUN steps use the
// exec form with the go command's full path, so that it also runs under
// emulation in a toolchain image without a shell (BuildKit's emulator hook
// does not search PATH); the steps are the usual ones.
const naiveDockerfile = `FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN ["/usr/local/go/bin/go", "mod", "download"]
COPY . .
ENV CGO_ENABLED=0
RUN ["/usr/local/go/bin/go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/out/app", "./%[1]s"]
FROM scratch
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
`

// bestDockerfile is C: cross-compiled on the build platform with the
// module and build caches mounted.
const bestDockerfile = `FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/app ./%[1]s
FROM scratch
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
`

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
	toolB tool = "B naive Dockerfile"
	toolC tool = "C best Dockerfile"
	toolD tool = "D host go build"
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
	// trace logs every step a build ran, with its duration.
	trace bool
	// checks are the targets, as measured in this run.
	checks []check
}

// check is one target and how this run measured against it.
type check struct {
	target, measured string
	met              bool
}

// checkRatio records a target of the form value <= limit (or >= limit
// when atLeast), skipping it when the row was not measured.
func (b *bench) checkRatio(target string, value, limit float64, atLeast bool, format string) {
	if value == 0 {
		return
	}
	met := value <= limit
	if atLeast {
		met = value >= limit
	}
	b.checks = append(b.checks, check{target, fmt.Sprintf(format, value), met})
}

// wants says whether the row named name is measured in this run.
func (b *bench) wants(name string) bool { return strings.Contains(name, b.rowFilter) }

// allPlatforms are the platforms of the 1/2/4-platform rows, native first.
var allPlatforms = []string{"linux/" + runtime.GOARCH, "linux/arm64", "linux/arm/v7", "linux/ppc64le"}

func main() {
	out := flag.String("out", "docs/benchmarks.md", "where to write the report")
	runs := flag.Int("runs", 5, "runs per warm measurement (the median is reported; a warm build varies by ~0.1 s, a tenth of a small service's rebuild)")
	coldRuns := flag.Int("cold-runs", 3, "runs per cold and fresh-builder measurement")
	emulate := flag.Bool("emulate", true, "measure B under QEMU emulation for the foreign platforms (needs qemu-user-static)")
	only := flag.String("only", "", "measure only the modules whose name contains this")
	scenario := flag.String("scenario", "", "measure only the rows whose name contains this (the overhead and size tables need it empty)")
	trace := flag.Bool("trace", false, "log every step each build ran, with its duration")
	flag.Parse()
	if err := run(*out, *runs, *coldRuns, *emulate, *only, *scenario, *trace); err != nil {
		log.Fatal(err)
	}
}

// run measures and writes the report; it returns errors rather than
// exiting, so that the daemons it started are always stopped.
func run(out string, runs, coldRuns int, emulate bool, only, scenario string, trace bool) error {
	// Ctrl-C cancels the builds and still stops the daemons.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	bed, err := testenv.Start(ctx, testenv.Options{ToolsDir: "integration/tools", Log: log.Printf, Emulate: emulate})
	if err != nil {
		return err
	}
	defer bed.Close()
	b := &bench{bed: bed, runs: runs, coldRuns: coldRuns, logf: log.Printf, rowFilter: scenario, trace: trace}
	if emulate {
		b.multiArchGo = bed.Registry + "/golang-multiarch:" + bed.GoVersion
		// The module proxy serves Go releases for amd64 and arm64 only,
		// so B under emulation is measured for two platforms.
		if err := bed.PushMultiArchToolchain(ctx, b.multiArchGo, allPlatforms[:2], log.Printf); err != nil {
			return err
		}
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
	return nil
}

// workdir copies a module with the two Dockerfiles next to its spec.
func workdir(m module) (string, error) {
	dir, err := os.MkdirTemp("", "gobuild-bench-")
	if err != nil {
		return "", err
	}
	if err := os.CopyFS(dir, os.DirFS(m.dir)); err != nil {
		return "", err
	}
	for name, text := range map[string]string{"Dockerfile.naive": naiveDockerfile, "Dockerfile.best": bestDockerfile} {
		if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, text, m.pkg), 0o644); err != nil {
			return "", err
		}
	}
	// The usual Dockerfile copies go.sum, which a module without
	// dependencies does not have.
	sum := filepath.Join(dir, "go.sum")
	if _, err := os.Stat(sum); os.IsNotExist(err) {
		if err := os.WriteFile(sum, nil, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// buildRequest is one build of a module by one tool.
type buildRequest struct {
	tool      tool
	dir, pkg  string
	platforms []string
	// addr is the daemon; the bed's when empty.
	addr string
	// args are build-args.
	args map[string]string
	// cacheTo and cacheFrom are registry cache refs (--cache-to
	// type=registry,mode=max and --cache-from).
	cacheTo, cacheFrom string
	// goImage replaces the bed's golang:1.26.
	goImage string
	// filename replaces the tool's usual spec or Dockerfile.
	filename string
	// compression is the exporter's layer compression; gzip when empty.
	compression string
}

// timing is what one build took.
type timing struct {
	wall time.Duration
	// overhead is from the solve's start to the first go command.
	overhead time.Duration
	// goSpan is from the first go build's start to the last one's end.
	goSpan time.Duration
	// export is the exporter's step: compressing new layers and writing
	// the image.
	export time.Duration
}

// build runs one build and times it.
func (b *bench) build(ctx context.Context, r buildRequest) (timing, error) {
	if r.tool == toolD {
		return b.hostBuild(ctx, r.dir, r.pkg, r.platforms)
	}
	c, err := client.New(ctx, cmp.Or(r.addr, b.bed.Addr))
	if err != nil {
		return timing{}, err
	}
	defer c.Close()
	fs, err := fsutil.NewFS(r.dir)
	if err != nil {
		return timing{}, err
	}
	attrs := map[string]string{
		"platform":            strings.Join(r.platforms, ","),
		"context:golang:1.26": "docker-image://" + cmp.Or(r.goImage, b.bed.GoImage),
	}
	for k, v := range r.args {
		attrs["build-arg:"+k] = v
	}
	opt := client.SolveOpt{
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		Exports: []client.ExportEntry{{
			Type:   client.ExporterOCI,
			Attrs:  map[string]string{"compression": cmp.Or(r.compression, "gzip")},
			Output: func(map[string]string) (io.WriteCloser, error) { return nopWriteCloser{io.Discard}, nil },
		}},
	}
	if r.cacheTo != "" {
		opt.CacheExports = []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": r.cacheTo, "mode": "max", "registry.insecure": "true"}}}
	}
	if r.cacheFrom != "" {
		opt.CacheImports = []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": r.cacheFrom, "registry.insecure": "true"}}}
	}
	ch := make(chan *client.SolveStatus)
	type goTimes struct {
		first, buildStart, buildEnd time.Time
		export                      time.Duration
	}
	seen := make(chan goTimes, 1)
	var steps map[digest.Digest]*client.Vertex
	go func() {
		var g goTimes
		ran := map[digest.Digest]*client.Vertex{}
		earliest := func(t *time.Time, v time.Time) {
			if t.IsZero() || v.Before(*t) {
				*t = v
			}
		}
		for st := range ch {
			for _, v := range st.Vertexes {
				if !v.Cached && v.Started != nil && v.Completed != nil {
					ran[v.Digest] = v
					if strings.HasPrefix(v.Name, "exporting to") {
						g.export = v.Completed.Sub(*v.Started)
					}
				}
				isBuild := strings.Contains(v.Name, "go build")
				if !(isBuild || strings.Contains(v.Name, "go mod download")) || v.Cached || v.Started == nil {
					continue
				}
				earliest(&g.first, *v.Started)
				if isBuild {
					earliest(&g.buildStart, *v.Started)
					if v.Completed != nil && v.Completed.After(g.buildEnd) {
						g.buildEnd = *v.Completed
					}
				}
			}
		}
		steps = ran // published by the send below
		seen <- g
	}()
	start := time.Now()
	switch r.tool {
	case toolA:
		if r.filename != "" {
			attrs["filename"] = r.filename
		}
		_, err = c.Build(ctx, opt, "gobuild", frontend.Build, ch)
	case toolB, toolC:
		opt.Frontend = "dockerfile.v0"
		attrs["filename"] = cmp.Or(r.filename, map[tool]string{toolB: "Dockerfile.naive", toolC: "Dockerfile.best"}[r.tool])
		_, err = c.Solve(ctx, nil, opt, ch)
	}
	t := timing{wall: time.Since(start)}
	g := <-seen
	if b.trace {
		b.logStepsRun(r.tool, start, steps)
	}
	if !g.first.IsZero() {
		t.overhead = g.first.Sub(start)
	}
	if !g.buildStart.IsZero() && !g.buildEnd.IsZero() {
		t.goSpan = g.buildEnd.Sub(g.buildStart)
	}
	t.export = g.export
	return t, err
}

// logStepsRun logs the steps a build ran, in the order they started, with
// their start (from the solve's start) and duration.
func (b *bench) logStepsRun(t tool, start time.Time, steps map[digest.Digest]*client.Vertex) {
	vs := slices.SortedFunc(maps.Values(steps), func(x, y *client.Vertex) int { return x.Started.Compare(*y.Started) })
	for _, v := range vs {
		b.logf("   %s +%.2fs %5.2fs %s", t, v.Started.Sub(start).Seconds(), v.Completed.Sub(*v.Started).Seconds(), v.Name)
	}
}

// hostBuild is D: go build on the host, one per platform, all at once (as
// BuildKit runs the platforms of A and C), so that the platform rows show
// how the floor itself grows with platforms on this machine's cores.
func (b *bench) hostBuild(ctx context.Context, dir, pkg string, targets []string) (timing, error) {
	if len(targets) == 0 {
		targets = allPlatforms[:1]
	}
	cmds := map[string]*exec.Cmd{}
	for i, target := range targets {
		p, err := platforms.Parse(target)
		if err != nil {
			return timing{}, err
		}
		goEnv, err := spec.GoEnv(p.Architecture, p.Variant)
		if err != nil {
			return timing{}, err
		}
		out := filepath.Join(os.TempDir(), fmt.Sprintf("gobuild-bench-host-%d", i))
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./"+pkg)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOOS="+p.OS)
		for _, k := range slices.Sorted(maps.Keys(goEnv)) {
			cmd.Env = append(cmd.Env, k+"="+goEnv[k])
		}
		cmds[target] = cmd
	}
	start := time.Now()
	errs := make(chan error, len(cmds))
	for target, cmd := range cmds {
		go func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("host go build for %s: %v\n%s", target, err, out)
				return
			}
			errs <- nil
		}()
	}
	var failed []error
	for range cmds {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	return timing{wall: time.Since(start)}, errors.Join(failed...)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// touch changes one Go file's content, as an edit does.
func touch(dir, pkg string, n int) error {
	f := filepath.Join(dir, pkg, "main.go")
	data, err := os.ReadFile(f)
	if err != nil {
		return err
	}
	return os.WriteFile(f, fmt.Appendf(data, "\n// edit %d\n", n), 0o644)
}

// dependencyVersions are added one per run, so that every run downloads a
// module no earlier run fetched. github.com/rs/xid has no dependencies and
// is in neither sample's module graph, so the version asked for is the one
// selected and the only module fetched.
var dependencyVersions = []string{"v1.6.0", "v1.5.0", "v1.4.0", "v1.3.0", "v1.2.1"}

// addDependency imports github.com/rs/xid at the run's version and updates
// go.mod and go.sum with the host's go get, as a developer does. The
// original go.mod and go.sum are kept beside the module (not in it, where
// they would change the build context) for removeDependency. The import's
// file names the tool and run: Go builds are reproducible, so without it B
// and C compile byte-identical binaries and C finds B's image layer already
// built and compressed.
func addDependency(dir, pkg string, t tool, run int) error {
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(dir+"."+name+".orig", data, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, pkg, "xid.go"), fmt.Appendf(nil, "package main\n\nimport \"github.com/rs/xid\"\n\nvar _ = xid.New // added for %s, run %d\n", t, run), 0o644); err != nil {
		return err
	}
	version := dependencyVersions[run%len(dependencyVersions)]
	cmd := exec.Command("go", "get", "github.com/rs/xid@"+version)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go get github.com/rs/xid@%s: %w\n%s", version, err, out)
	}
	return nil
}

// removeDependency undoes addDependency, if it was done.
func removeDependency(dir, pkg string) error {
	if _, err := os.Stat(filepath.Join(dir, pkg, "xid.go")); os.IsNotExist(err) {
		return nil
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(dir + "." + name + ".orig")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
		if err := os.Remove(dir + "." + name + ".orig"); err != nil {
			return err
		}
	}
	return os.Remove(filepath.Join(dir, pkg, "xid.go"))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// measurement is the median of several runs of one tool in one scenario.
type measurement struct {
	timing
	failed error
}

// scenario runs before (untimed), then the timed build, runs times.
func (b *bench) scenario(ctx context.Context, r buildRequest, runs int, before func(run int) error) measurement {
	var walls, overheads, spans, exports []time.Duration
	for i := range runs {
		if err := ctx.Err(); err != nil {
			return measurement{failed: err}
		}
		if before != nil {
			if err := before(i); err != nil {
				return measurement{failed: err}
			}
		}
		t, err := b.build(ctx, r)
		if err != nil {
			return measurement{failed: err}
		}
		b.logf("%s: %v", r.tool, t.wall.Round(time.Millisecond))
		walls = append(walls, t.wall)
		overheads = append(overheads, t.overhead)
		spans = append(spans, t.goSpan)
		exports = append(exports, t.export)
	}
	return measurement{timing: timing{wall: median(walls), overhead: median(overheads), goSpan: median(spans), export: median(exports)}}
}

// freshBuilder measures CI on an ephemeral builder: the previous state is
// built on the bed's daemon with --cache-to a registry, the source is
// edited, and the timed build runs on a brand-new daemon with --cache-from.
func (b *bench) freshBuilder(ctx context.Context, r buildRequest, edit func() error) measurement {
	cacheRef := fmt.Sprintf("%s/bench-cache:%d", b.bed.Registry, b.daemons)
	var walls []time.Duration
	for range b.coldRuns {
		if err := ctx.Err(); err != nil {
			return measurement{failed: err}
		}
		b.daemons++
		name := fmt.Sprintf("fresh-%d", b.daemons)
		seed := r
		seed.cacheTo = cacheRef
		if _, err := b.build(ctx, seed); err != nil {
			return measurement{failed: err}
		}
		if err := edit(); err != nil {
			return measurement{failed: err}
		}
		addr := "unix://" + filepath.Join(b.bed.Dir, name+".sock")
		if err := b.bed.StartDaemon(ctx, name, addr, nil); err != nil {
			return measurement{failed: err}
		}
		timed := r
		timed.addr, timed.cacheFrom = addr, cacheRef
		t, err := b.build(ctx, timed)
		if stopErr := b.bed.StopDaemon(name); stopErr != nil {
			b.logf("stopping %s: %v", name, stopErr)
		}
		if err != nil {
			return measurement{failed: err}
		}
		b.logf("%s on a fresh builder: %v", r.tool, t.wall.Round(time.Millisecond))
		walls = append(walls, t.wall)
	}
	return measurement{timing: timing{wall: median(walls)}}
}

// row is one line of a module's table.
type row struct {
	name    string
	results map[tool]measurement
	note    string
}

// report measures and writes the whole report; the targets come first,
// though they are known only once everything else is measured.
func (b *bench) report(ctx context.Context, w io.Writer, modules []module) error {
	fmt.Fprintf(w, "# Benchmarks\n\nGenerated by `go run ./integration/bench -out docs/benchmarks.md` on %s.\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(w, "Machine: %d cores, %s, %s. BuildKit v0.33.1 (OCI worker, overlayfs), builder image from the host's Go. ", runtime.NumCPU(), memTotal(), goVersion())
	fmt.Fprintf(w, "Each cell is the median of %d runs (%d for cold and fresh-builder builds, 1 under emulation), wall time of the whole solve including the OCI export.\n\n", b.runs, b.coldRuns)
	fmt.Fprintf(w, "- A: gobuild; B: the usual multi-stage Dockerfile (no cache mounts, builds on the target platform, so under QEMU for foreign ones); C: the best hand-written Dockerfile (cache mounts, cross-compiled on the build platform); D: `go build` on the host, warm cache (one per platform, all at once, in the platform rows).\n")
	fmt.Fprintf(w, "- Ratios: A/C and A/D; lower is better for gobuild.\n")
	fmt.Fprintf(w, "- Fresh builder: the previous commit was built with `--cache-to type=registry,mode=max`, one `.go` file changed, and a new buildkitd with an empty state builds with `--cache-from` (ephemeral CI). A (layer) is gobuild with `GOBUILD_MODULE_CACHE=layer`.\n\n")

	var body bytes.Buffer
	if err := b.measureSections(ctx, &body, modules); err != nil {
		return err
	}
	if len(b.checks) > 0 {
		fmt.Fprintf(w, "## Targets\n\n| target | measured | met |\n| --- | --- | --- |\n")
		for _, c := range b.checks {
			fmt.Fprintf(w, "| %s | %s | %s |\n", c.target, c.measured, map[bool]string{true: "yes", false: "**no**"}[c.met])
		}
		fmt.Fprintf(w, "\nThe untimed targets are asserted by the integration tests: a go.mod change fetches only the added module (`TestDependencyAddedFetchesOnlyIt`); a source change leaves `go mod download` cached (`TestSourceChangeKeepsDownloadCached`); `.git` and docs changes leave `go build` cached (`TestGitChangeKeepsBuildCached`, `TestDocsChangeKeepsBuildCached`).\n\n")
	}
	_, err := w.Write(body.Bytes())
	return err
}

// measureSections measures every table and writes them to w.
func (b *bench) measureSections(ctx context.Context, w io.Writer, modules []module) error {
	var spans []string
	for _, m := range modules {
		dir, err := workdir(m)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		b.logf("== %s", m.name)
		rows, moduleSpans, err := b.moduleRows(ctx, m, dir)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err // interrupted: every row after it would just fail
		}
		spans = append(spans, moduleSpans...)
		fmt.Fprintf(w, "## %s\n\n| scenario | A | B | C | D | A/C | A/D |\n| --- | --- | --- | --- | --- | --- | --- |\n", m.name)
		for _, r := range rows {
			writeRow(w, r)
		}
		fmt.Fprintln(w)
	}
	for _, m := range modules {
		if !m.severalBinaries || !b.wants("several binaries") {
			continue
		}
		b.logf("== several binaries: %s", m.name)
		fmt.Fprintf(w, "## Several binaries: one go build each, or one for all (%s, server and healthcheck)\n\n", m.name)
		fmt.Fprintf(w, "Wall time, and the span from the first `go build` start to the last one's end.\n\n")
		if err := b.severalBinaries(ctx, w, m); err != nil {
			return err
		}
	}
	if len(spans) > 0 {
		fmt.Fprintf(w, "## Where the time of a multi-platform rebuild goes (A, one `.go` file changed)\n\n")
		fmt.Fprintf(w, "| module | platforms | compression | wall | first `go build` start to last end | export (compressing the new layers) | rest (transfer, frontend, copies) |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, s := range spans {
			fmt.Fprintln(w, s)
		}
		fmt.Fprintln(w)
	}

	if b.rowFilter != "" {
		return nil
	}
	return b.overheadAndSizes(ctx, w, modules[0])
}

// moduleRows measures every scenario of one module.
func (b *bench) moduleRows(ctx context.Context, m module, dir string) ([]row, []string, error) {
	native := allPlatforms[:1]
	req := func(t tool, ps []string) buildRequest {
		return buildRequest{tool: t, dir: dir, pkg: m.pkg, platforms: ps}
	}
	edits := 0
	edit := func(int) error { edits++; return touch(dir, m.pkg, edits) }
	tools := []tool{toolA, toolB, toolC, toolD}
	var rows []row

	measureAll := func(name string, runs int, warm bool, before func(t tool) func(int) error) {
		if !b.wants(name) {
			return
		}
		r := row{name: name, results: map[tool]measurement{}}
		for _, t := range tools {
			if t == toolD && !warm {
				r.results[t] = measurement{failed: errSkipped} // D is the warm floor
				continue
			}
			// Warm up so that rebuilds start from a built state: the
			// module's own, without an earlier tool's added dependency.
			if err := removeDependency(dir, m.pkg); err != nil {
				r.results[t] = measurement{failed: err}
				continue
			}
			if warm {
				if _, err := b.build(ctx, req(t, native)); err != nil {
					r.results[t] = measurement{failed: err}
					continue
				}
			}
			b.logf("-- %s, %s", name, t)
			r.results[t] = b.scenario(ctx, req(t, native), runs, before(t))
		}
		rows = append(rows, r)
	}
	measureAll("cold (empty BuildKit cache)", b.coldRuns, false, func(tool) func(int) error {
		return func(int) error { return b.bed.Prune(ctx) }
	})
	measureAll("no-op rebuild", b.runs, true, func(tool) func(int) error { return nil })
	measureAll("one .go file changed", b.runs, true, func(tool) func(int) error { return edit })
	measureAll("dependency added to go.mod", b.runs, true, func(t tool) func(int) error {
		return func(run int) error {
			// Every run starts from the original go.mod, built, and adds
			// a version no earlier run fetched.
			if err := removeDependency(dir, m.pkg); err != nil {
				return err
			}
			if _, err := b.build(ctx, req(t, native)); err != nil {
				return err
			}
			return addDependency(dir, m.pkg, t, run)
		}
	})
	if err := removeDependency(dir, m.pkg); err != nil {
		return nil, nil, err
	}

	// Ephemeral CI builders fed by a registry cache.
	if b.wants("fresh builder") {
		fresh := row{name: "fresh builder + registry cache, one .go file changed", results: map[tool]measurement{}}
		layer := row{name: "same, A with GOBUILD_MODULE_CACHE=layer", results: map[tool]measurement{}}
		for _, t := range []tool{toolA, toolB, toolC} {
			b.logf("-- fresh builder, %s", t)
			fresh.results[t] = b.freshBuilder(ctx, req(t, native), func() error { return edit(0) })
			layer.results[t] = fresh.results[t]
		}
		layerReq := req(toolA, native)
		layerReq.args = map[string]string{"GOBUILD_MODULE_CACHE": "layer"}
		b.logf("-- fresh builder, A (layer)")
		layer.results[toolA] = b.freshBuilder(ctx, layerReq, func() error { return edit(0) })
		fresh.results[toolD], layer.results[toolD] = measurement{failed: errSkipped}, measurement{failed: errSkipped}
		rows = append(rows, fresh, layer)
	}

	// Platforms: an edit rebuilt for 1, 2 and 4 platforms; B builds each
	// platform natively, under emulation for the foreign ones.
	// The zstd rows show what the export's compression costs: it grows
	// with the number of platforms, as compiling does.
	var spans []string
	for _, variant := range []struct {
		n           int
		compression string
	}{{1, ""}, {2, ""}, {4, ""}, {1, "zstd"}, {4, "zstd"}} {
		n, ps := variant.n, allPlatforms[:variant.n]
		r := row{name: fmt.Sprintf("one .go file changed, %d platform(s)", n), results: map[tool]measurement{}}
		if variant.compression != "" {
			r.name += ", layers compressed with " + variant.compression
		}
		if !b.wants(r.name) {
			continue
		}
		for _, t := range []tool{toolA, toolC} {
			tr := req(t, ps)
			tr.compression = variant.compression
			if _, err := b.build(ctx, tr); err != nil {
				r.results[t] = measurement{failed: err}
				continue
			}
			r.results[t] = b.scenario(ctx, tr, b.runs, edit)
		}
		r.results[toolB] = measurement{failed: errSkipped}
		if n == 2 && m.emulated && b.multiArchGo != "" {
			qemu := req(toolB, ps)
			qemu.goImage = b.multiArchGo
			b.logf("-- %d platforms, B under emulation", n)
			r.results[toolB] = b.scenario(ctx, qemu, 1, edit)
			if a := r.results[toolA]; a.failed == nil && r.results[toolB].failed == nil {
				r.note = fmt.Sprintf("B/A %.1fx", r.results[toolB].wall.Seconds()/a.wall.Seconds())
			}
		}
		r.results[toolD] = measurement{failed: errSkipped}
		if variant.compression == "" {
			// The floor: the same edit, go build per platform on the host,
			// warmed up like A and C (the first foreign build compiles the
			// standard library for it).
			if _, err := b.build(ctx, req(toolD, ps)); err != nil {
				r.results[toolD] = measurement{failed: err}
			} else {
				r.results[toolD] = b.scenario(ctx, req(toolD, ps), b.runs, edit)
			}
		}
		rows = append(rows, r)
		if a := r.results[toolA]; a.failed == nil {
			spans = append(spans, fmt.Sprintf("| %s | %d | %s | %.2fs | %.2fs | %.2fs | %.2fs |", m.name, n, cmp.Or(variant.compression, "gzip"), a.wall.Seconds(), a.goSpan.Seconds(), a.export.Seconds(), (a.wall-a.goSpan-a.export).Seconds()))
		}
	}
	b.moduleChecks(m, rows)
	return rows, spans, nil
}

// moduleChecks records the timing targets one module's rows measure.
func (b *bench) moduleChecks(m module, rows []row) {
	find := func(name string) map[tool]measurement {
		for _, r := range rows {
			if r.name == name {
				return r.results
			}
		}
		return nil
	}
	wall := func(r map[tool]measurement, t tool) float64 {
		if r == nil || r[t].failed != nil {
			return 0
		}
		return r[t].wall.Seconds()
	}
	ratio := func(r map[tool]measurement, x, y tool) float64 {
		if wall(r, y) == 0 {
			return 0
		}
		return wall(r, x) / wall(r, y)
	}
	short := strings.SplitN(m.name, " (", 2)[0]
	noop, edit, cold := find("no-op rebuild"), find("one .go file changed"), find("cold (empty BuildKit cache)")
	b.checkRatio("no-op rebuild under 1 s ("+short+")", wall(noop, toolA), 1, false, "%.2fs")
	b.checkRatio("one .go file changed: at most 1.1x C ("+short+")", ratio(edit, toolA, toolC), 1.1, false, "%.2fx")
	b.checkRatio("one .go file changed: within 2x of D ("+short+")", ratio(edit, toolA, toolD), 2, false, "%.2fx")
	b.checkRatio("cold: at most 1.0x C ("+short+")", ratio(cold, toolA, toolC), 1.0, false, "%.2fx")
	one, four := find("one .go file changed, 1 platform(s)"), find("one .go file changed, 4 platform(s)")
	if wall(one, toolA) > 0 {
		// The host's go build is the floor for this ratio too: on few
		// cores, four go builds at once take more than 2.5x one.
		format := "%.2fx"
		if wall(one, toolD) > 0 && wall(four, toolD) > 0 {
			format += fmt.Sprintf(" (D, go build on the host: %.2fx)", wall(four, toolD)/wall(one, toolD))
		}
		b.checkRatio("4 platforms: at most 2.5x one platform, 2 cores ("+short+")", wall(four, toolA)/wall(one, toolA), 2.5, false, format)
	}
	two := find("one .go file changed, 2 platform(s)")
	b.checkRatio("B under QEMU at least 5x slower than A (2 platforms, "+short+")", ratio(two, toolB, toolA), 5, true, "%.1fx")
}

var errSkipped = fmt.Errorf("not measured")

func writeRow(w io.Writer, r row) {
	cell := func(t tool) string {
		m := r.results[t]
		if m.failed == errSkipped {
			return "–"
		}
		if m.failed != nil {
			log.Printf("%s %s failed: %v", r.name, t, m.failed)
			return "failed"
		}
		return fmt.Sprintf("%.2fs", m.wall.Seconds())
	}
	ratio := func(a, b tool) string {
		if r.results[a].failed != nil || r.results[b].failed != nil || r.results[b].wall == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2fx", r.results[a].wall.Seconds()/r.results[b].wall.Seconds())
	}
	name := r.name
	if r.note != "" {
		name += " (" + r.note + ")"
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", name, cell(toolA), cell(toolB), cell(toolC), cell(toolD), ratio(toolA, toolC), ratio(toolA, toolD))
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	var kb int
	fmt.Sscanf(string(data), "MemTotal: %d kB", &kb)
	return fmt.Sprintf("%d GiB RAM", kb>>20)
}

func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "go unknown"
	}
	return strings.TrimSpace(string(out))
}

// overheadAndSizes reports the frontend's own cost and what each base adds
// to the binary.
func (b *bench) overheadAndSizes(ctx context.Context, w io.Writer, m module) error {
	dir, err := workdir(m)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	one := allPlatforms[:1]
	r := buildRequest{tool: toolA, dir: dir, pkg: m.pkg, platforms: one}
	if _, err := b.build(ctx, r); err != nil {
		return err
	}
	edits := 1000
	edit := b.scenario(ctx, r, b.runs, func(int) error { edits++; return touch(dir, m.pkg, edits) })
	noop := b.scenario(ctx, r, b.runs, nil)
	if edit.failed != nil || noop.failed != nil {
		return fmt.Errorf("measuring overhead: %v %v", edit.failed, noop.failed)
	}
	fmt.Fprintf(w, "## Frontend overhead (%s)\n\n", m.name)
	fmt.Fprintf(w, "| measure | median |\n| --- | --- |\n")
	fmt.Fprintf(w, "| solve start to the first `go` process, after an edit | %dms |\n", edit.overhead.Milliseconds())
	fmt.Fprintf(w, "| whole no-op rebuild (everything cached, OCI export included) | %dms |\n\n", noop.wall.Milliseconds())
	b.checkRatio("frontend overhead (solve start to the first go process) under 300 ms", float64(edit.overhead.Milliseconds()), 300, false, "%.0f ms")

	distroless, err := b.pushDistrolessLike(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## Image size by base (%s, %s)\n\n", m.name, one[0])
	fmt.Fprintf(w, "| base | binary | image, compressed layers | image, uncompressed | added to the binary |\n| --- | --- | --- | --- | --- |\n")
	spec, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
	if err != nil {
		return err
	}
	bySize := map[string]sizes{}
	for _, base := range []struct{ name, ref string }{{"static", "static"}, {"scratch", "scratch"}, {"distroless-like (Debian's tzdata, CA bundle, passwd, netbase files)", distroless}} {
		variant := strings.Replace(string(spec), "image:\n", "image:\n  base: "+base.ref+"\n", 1)
		if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(variant), 0o644); err != nil {
			return err
		}
		sz, err := b.imageSizes(ctx, dir, one[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", base.name, kb(sz.binary), kb(sz.compressed), kb(sz.uncompressed), kb(sz.uncompressed-sz.binary))
		bySize[base.ref] = sz
	}
	fmt.Fprintln(w)
	static, scratch := bySize["static"], bySize["scratch"]
	b.checkRatio("static base adds under 500 KB to the binary, uncompressed", float64(static.uncompressed-static.binary)/1000, 500, false, "%.0f KB")
	b.checkRatio("static base adds under 500 KB to the binary, compressed (as pulled and stored)", float64(static.compressed-scratch.compressed)/1000, 500, false, "%.0f KB")
	return nil
}

func kb(n int64) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }
