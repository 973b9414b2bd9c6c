package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/frontend"
	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client"
	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
)

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
	// cacheCompression compresses the layers of cacheTo (forced, so that
	// layers the image export compressed are compressed again); BuildKit's
	// default, gzip, when empty.
	cacheCompression string
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
	// cacheExport is the registry cache export's step.
	cacheExport time.Duration
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
		if r.cacheCompression != "" {
			opt.CacheExports[0].Attrs["compression"] = r.cacheCompression
			opt.CacheExports[0].Attrs["force-compression"] = "true"
		}
	}
	if r.cacheFrom != "" {
		opt.CacheImports = []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": r.cacheFrom, "registry.insecure": "true"}}}
	}
	ch := make(chan *client.SolveStatus)
	type goTimes struct {
		first, buildStart, buildEnd time.Time
		export, cacheExport         time.Duration
	}
	seen := make(chan goTimes, 1)
	var steps map[digest.Digest]*client.Vertex
	// statuses are the steps' timed progress reports (a layer's download
	// or extraction), by step: where a fresh builder's time goes.
	var statuses map[digest.Digest]map[string]*client.VertexStatus
	// helperPrinted is what gobuild's helper printed, by step: what it
	// copied, and how many files.
	var helperPrinted map[digest.Digest][]string
	go func() {
		var g goTimes
		ran := map[digest.Digest]*client.Vertex{}
		timed := map[digest.Digest]map[string]*client.VertexStatus{}
		printed := map[digest.Digest][]string{}
		earliest := func(t *time.Time, v time.Time) {
			if t.IsZero() || v.Before(*t) {
				*t = v
			}
		}
		for st := range ch {
			for _, l := range st.Logs {
				if b.trace {
					printed[l.Vertex] = append(printed[l.Vertex], helperLines(l.Data)...)
				}
			}
			for _, vs := range st.Statuses {
				// Only for -trace: the bench's own work shares the cores
				// with the build it times.
				if !b.trace || vs.Started == nil || vs.Completed == nil {
					continue
				}
				if timed[vs.Vertex] == nil {
					timed[vs.Vertex] = map[string]*client.VertexStatus{}
				}
				timed[vs.Vertex][vs.ID] = vs
			}
			for _, v := range st.Vertexes {
				if !v.Cached && v.Started != nil && v.Completed != nil && v.Error == "" {
					ran[v.Digest] = v
					if strings.HasPrefix(v.Name, "exporting to") {
						g.export = v.Completed.Sub(*v.Started)
					}
					if strings.HasPrefix(v.Name, "exporting cache to") {
						g.cacheExport = v.Completed.Sub(*v.Started)
					}
				}
				// gobuild's step names, and the Dockerfiles' RUN lines, hold
				// the go command they run.
				isBuild := strings.Contains(v.Name, gbllb.StepGoBuildPrefix)
				// A step that ends in an error was canceled (BuildKit stops
				// loading one under a step found in the cache, and gobuild
				// a build it started before the partition's name): it
				// timed nothing.
				if !(isBuild || strings.Contains(v.Name, gbllb.StepModDownload)) || v.Cached || v.Started == nil || v.Error != "" {
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
		steps, statuses, helperPrinted = ran, timed, printed // published by the send below
		seen <- g
	}()
	start := time.Now()
	switch r.tool {
	case toolA, toolA0:
		if r.filename != "" {
			attrs["filename"] = r.filename
		}
		if r.tool == toolA0 {
			attrs["build-arg:GOBUILD_DEPENDENCY_CACHE"] = "mount"
		}
		_, err = c.Build(ctx, opt, "gobuild", frontend.Build, ch)
	case toolAs, toolB, toolC, toolCs:
		opt.Frontend = "dockerfile.v0"
		attrs["filename"] = cmp.Or(r.filename, map[tool]string{toolAs: syntaxSpec, toolB: "Dockerfile.naive", toolC: "Dockerfile.best", toolCs: "Dockerfile.syntax"}[r.tool])
		_, err = c.Solve(ctx, nil, opt, ch)
	}
	t := timing{wall: time.Since(start)}
	g := <-seen
	if b.trace {
		b.logStepsRun(r.tool, start, steps, statuses, helperPrinted)
	}
	if !g.first.IsZero() {
		t.overhead = g.first.Sub(start)
	}
	if !g.buildStart.IsZero() && !g.buildEnd.IsZero() {
		t.goSpan = g.buildEnd.Sub(g.buildStart)
	}
	t.export, t.cacheExport = g.export, g.cacheExport
	return t, err
}

// logStepsRun logs the steps a build ran, in the order they started, with
// their start (from the solve's start) and duration.
func (b *bench) logStepsRun(t tool, start time.Time, steps map[digest.Digest]*client.Vertex, statuses map[digest.Digest]map[string]*client.VertexStatus, helperPrinted map[digest.Digest][]string) {
	vs := slices.SortedFunc(maps.Values(steps), func(x, y *client.Vertex) int { return x.Started.Compare(*y.Started) })
	for _, v := range vs {
		b.logf("   %s +%.2fs %5.2fs %s", t, v.Started.Sub(start).Seconds(), v.Completed.Sub(*v.Started).Seconds(), v.Name)
		for _, id := range slices.Sorted(maps.Keys(statuses[v.Digest])) {
			st := statuses[v.Digest][id]
			b.logf("   %s    +%.2fs %5.2fs %s", t, st.Started.Sub(start).Seconds(), st.Completed.Sub(*st.Started).Seconds(), id)
		}
		for _, line := range helperPrinted[v.Digest] {
			b.logf("   %s      %s", t, line)
		}
	}
}

// helperLines are the lines of a step's output that gobuild's helper
// printed. The helper prints each line in one write, which BuildKit sends
// in one piece.
func helperLines(output []byte) []string {
	var lines []string
	for line := range strings.Lines(string(output)) {
		if strings.HasPrefix(line, "gobuild-helper:") {
			lines = append(lines, strings.TrimRight(line, "\r\n"))
		}
	}
	return lines
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

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// measurement is the median of several runs of one tool in one scenario.
type measurement struct {
	timing
	failed error
	// walls are the runs' times in turn order, and turns numbers the
	// inTurns call that took them (0: none): two tools' runs of one turn
	// are next to each other in time.
	walls []time.Duration
	turns int
}

// turnOrder is the order of n contenders in turn i: as given, and every
// other turn the other way round.
func turnOrder(i, n int) []int {
	order := make([]int, n)
	for k := range order {
		order[k] = k
		if i%2 == 1 {
			order[k] = n - 1 - k
		}
	}
	return order
}

// ratioOf is x's time over y's, 0 when either is missing. Tools measured
// in the same turns are compared run by run: the machine's speed drifts
// over a row by more than the gaps the targets are about, and both runs
// of a turn see the same speed, so the ratio of the medians would mix the
// drift into it. Each turn's ratio is taken, each forward turn's with the
// reverse turn after it (their geometric mean, so that x's place in the
// turn cancels out), and the median of those is the ratio.
func ratioOf(x, y measurement) float64 {
	if x.failed != nil || y.failed != nil || x.wall == 0 || y.wall == 0 {
		return 0
	}
	if x.turns == 0 || x.turns != y.turns || len(x.walls) != len(y.walls) {
		return x.wall.Seconds() / y.wall.Seconds()
	}
	var paired []float64
	for i := 0; i < len(x.walls); i += 2 {
		r := x.walls[i].Seconds() / y.walls[i].Seconds()
		if i+1 < len(x.walls) {
			r = math.Sqrt(r * x.walls[i+1].Seconds() / y.walls[i+1].Seconds())
		}
		paired = append(paired, r)
	}
	slices.Sort(paired)
	n := len(paired)
	if n%2 == 0 {
		return (paired[n/2-1] + paired[n/2]) / 2
	}
	return paired[n/2]
}

// scenario runs before (untimed), then the timed build, runs times.
func (b *bench) scenario(ctx context.Context, r buildRequest, runs int, before func(run int) error) measurement {
	return b.inTurns(ctx, []contender{{r, runs, before}})[r.tool]
}

// contender is one tool's part in a row: its build, how many timed runs
// it gets, and what runs (untimed) before each.
type contender struct {
	req    buildRequest
	runs   int
	before func(run int) error
}

// inTurns measures the contenders run by run, each in turn (A, C, C, A,
// A, C, ...) rather than all of one tool's runs and then the next's, so
// that no tool has all its runs at one moment of the machine's load (the
// disk still writing back the tool before it, say). Every other turn runs
// in reverse order: in a fixed order the first tool of a turn measured
// 10 to 20 ms slower on a no-op than the second with the same definition.
// It gives each contender's medians by its tool (a row's contenders are
// distinct tools); one that fails stops there.
func (b *bench) inTurns(ctx context.Context, contenders []contender) map[tool]measurement {
	samples := make([][]timing, len(contenders))
	failed := make([]error, len(contenders))
	most := 0
	for _, c := range contenders {
		most = max(most, c.runs)
	}
	for i := range most {
		for _, j := range turnOrder(i, len(contenders)) {
			c := contenders[j]
			if failed[j] != nil || i >= c.runs {
				continue
			}
			if err := ctx.Err(); err != nil {
				failed[j] = err
				continue
			}
			if c.before != nil {
				if err := c.before(i); err != nil {
					failed[j] = err
					continue
				}
			}
			t, err := b.build(ctx, c.req)
			if err != nil {
				failed[j] = err
				continue
			}
			b.logf("%s: %v", c.req.tool, t.wall.Round(time.Millisecond))
			samples[j] = append(samples[j], t)
		}
	}
	byTool := map[tool]measurement{}
	b.turnSets++
	for j, runs := range samples {
		if failed[j] != nil {
			byTool[contenders[j].req.tool] = measurement{failed: failed[j]}
			continue
		}
		var walls, overheads, spans, exports []time.Duration
		for _, t := range runs {
			walls = append(walls, t.wall)
			overheads = append(overheads, t.overhead)
			spans = append(spans, t.goSpan)
			exports = append(exports, t.export)
		}
		byTool[contenders[j].req.tool] = measurement{
			timing: timing{wall: median(walls), overhead: median(overheads), goSpan: median(spans), export: median(exports)},
			walls:  walls,
			turns:  b.turnSets,
		}
	}
	return byTool
}

// freshBuilder measures CI on an ephemeral builder: the previous state is
// built on the bed's daemon with --cache-to a registry, the source is
// edited, and the timed build runs on a brand-new daemon with --cache-from.
func (b *bench) freshBuilder(ctx context.Context, r buildRequest, reset, edit func() error) measurement {
	cacheRef := fmt.Sprintf("%s/bench-cache:%d", b.bed.Registry, b.daemons)
	var walls []time.Duration
	// gobuild's fresh builds take seconds, so three cost little and steady
	// the median: most of such a build is pulling the toolchain and
	// dependency layers, whose time varies with the disk.
	runs := b.coldRuns
	if r.tool == toolA || r.tool == toolAs {
		runs = max(runs, 3)
	}
	for range runs {
		wall, err := b.freshRun(ctx, r, cacheRef, reset, edit)
		if err != nil {
			return measurement{failed: err}
		}
		walls = append(walls, wall)
	}
	return measurement{timing: timing{wall: median(walls)}}
}

// freshRun builds the previous commit with --cache-to cacheRef, applies
// edit, and times the build on a new daemon with --cache-from cacheRef.
func (b *bench) freshRun(ctx context.Context, r buildRequest, cacheRef string, reset, edit func() error) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b.daemons++
	name := fmt.Sprintf("fresh-%d", b.daemons)
	if reset != nil {
		if err := reset(); err != nil {
			return 0, err
		}
	}
	// As a CI job does on every run, the previous commit's build
	// imports the cache too (the first import finds nothing).
	seed := r
	seed.cacheTo, seed.cacheFrom = cacheRef, cacheRef
	if _, err := b.build(ctx, seed); err != nil {
		return 0, err
	}
	if err := edit(); err != nil {
		return 0, err
	}
	// A CI runner starts on a quiet disk of its own: the writes of the
	// build above are flushed first, and the daemon's state is on a new
	// filesystem, so that the timed build pays for neither them nor the
	// removal of the previous fresh daemon's state.
	syscall.Sync()
	addr := "unix://" + filepath.Join(b.bed.Dir, name+".sock")
	if err := b.bed.StartDaemonOnNewDisk(ctx, name, addr); err != nil {
		return 0, err
	}
	timed := r
	timed.addr, timed.cacheFrom = addr, cacheRef
	t, err := b.build(ctx, timed)
	if stopErr := b.bed.StopDaemon(name); stopErr != nil {
		b.logf("stopping %s: %v", name, stopErr)
	}
	if err != nil {
		return 0, err
	}
	b.logf("%s on a fresh builder: %v", r.tool, t.wall.Round(time.Millisecond))
	return t.wall, nil
}

// freshTurns measures two settings of one tool on fresh builders in turns
// (x then y, then y then x, ...), so that the machine's drift over a row
// cancels out, as in inTurns: two rows measured one after the other
// differed by more than zstd's gain. Four turns at least, so that ratioOf
// pairs every forward turn with a reverse one.
func (b *bench) freshTurns(ctx context.Context, x, y buildRequest, edit func() error) (mx, my measurement) {
	reqs := []buildRequest{x, y}
	// Each its own cache, as the two compress it differently.
	var refs []string
	for range reqs {
		b.daemons++
		refs = append(refs, fmt.Sprintf("%s/bench-cache:%d", b.bed.Registry, b.daemons))
	}
	b.turnSets++
	walls := make([][]time.Duration, len(reqs))
	for i := range max(b.coldRuns, 4) {
		for _, k := range turnOrder(i, len(reqs)) {
			wall, err := b.freshRun(ctx, reqs[k], refs[k], nil, edit)
			if err != nil {
				return measurement{failed: err}, measurement{failed: err}
			}
			walls[k] = append(walls[k], wall)
		}
	}
	m := func(k int) measurement {
		return measurement{timing: timing{wall: median(walls[k])}, walls: walls[k], turns: b.turnSets}
	}
	return m(0), m(1)
}
