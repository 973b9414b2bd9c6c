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
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/gobuildkit/gobuild/internal/testbed"
	"github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
)

// naiveDockerfile is B: what most Go projects have.
const naiveDockerfile = `FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app ./%[1]s
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
}

type tool string

const (
	toolA tool = "A gobuild"
	toolB tool = "B naive Dockerfile"
	toolC tool = "C best Dockerfile"
	toolD tool = "D host go build"
)

type bench struct {
	bed      *testbed.Bed
	runs     int
	coldRuns int
	logf     func(string, ...any)
}

func main() {
	out := flag.String("out", "docs/benchmarks.md", "where to write the report")
	runs := flag.Int("runs", 3, "runs per warm measurement (the median is reported)")
	coldRuns := flag.Int("cold-runs", 3, "runs per cold measurement")
	flag.Parse()
	ctx := context.Background()

	bed, err := testbed.Start(ctx, testbed.Options{ToolsDir: "integration/tools", Log: log.Printf})
	if err != nil {
		log.Fatal(err)
	}
	defer bed.Close()
	b := &bench{bed: bed, runs: *runs, coldRuns: *coldRuns, logf: log.Printf}

	modules := []module{
		{"small service (examples/hello)", "examples/hello", "cmd/hello"},
		{"gRPC server (integration/bench/testdata/grpcsvc)", "integration/bench/testdata/grpcsvc", "cmd/server"},
	}
	var report bytes.Buffer
	if err := b.report(ctx, &report, modules); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, report.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s", *out)
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

// build runs one build and returns its wall time, and the time from the
// solve's start to the first go command.
func (b *bench) build(ctx context.Context, t tool, dir, pkg string, platforms []string) (time.Duration, time.Duration, error) {
	if t == toolD {
		return b.hostBuild(ctx, dir, pkg)
	}
	c, err := b.bed.Client(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return 0, 0, err
	}
	attrs := map[string]string{
		"platform":            strings.Join(platforms, ","),
		"context:golang:1.26": "docker-image://" + b.bed.GoImage,
	}
	opt := client.SolveOpt{
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		Exports: []client.ExportEntry{{
			Type:   client.ExporterOCI,
			Attrs:  map[string]string{},
			Output: func(map[string]string) (io.WriteCloser, error) { return nopWriteCloser{io.Discard}, nil },
		}},
	}
	ch := make(chan *client.SolveStatus)
	firstGo := make(chan time.Time, 1)
	go func() {
		sent := false
		for st := range ch {
			for _, v := range st.Vertexes {
				isGo := strings.Contains(v.Name, "go mod download") || strings.Contains(v.Name, "go build")
				if !sent && isGo && v.Started != nil && !v.Cached {
					firstGo <- *v.Started
					sent = true
				}
			}
		}
		close(firstGo)
	}()
	start := time.Now()
	switch t {
	case toolA:
		_, err = c.Build(ctx, opt, "gobuild", frontend.Build, ch)
	case toolB, toolC:
		opt.Frontend = "dockerfile.v0"
		attrs["filename"] = map[tool]string{toolB: "Dockerfile.naive", toolC: "Dockerfile.best"}[t]
		_, err = c.Solve(ctx, nil, opt, ch)
	}
	wall := time.Since(start)
	var overhead time.Duration
	if first, ok := <-firstGo; ok {
		overhead = first.Sub(start)
	}
	return wall, overhead, err
}

func (b *bench) hostBuild(ctx context.Context, dir, pkg string) (time.Duration, time.Duration, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(os.TempDir(), "gobuild-bench-host"), "./"+pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("host go build: %v\n%s", err, out)
	}
	return time.Since(start), 0, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func (b *bench) prune(ctx context.Context) error {
	c, err := b.bed.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Prune(ctx, nil, client.PruneAll)
}

// touch changes one Go file's content, as an edit does.
func touch(dir, pkg string, n int) error {
	f := filepath.Join(dir, pkg, "main.go")
	data, err := os.ReadFile(f)
	if err != nil {
		return err
	}
	return os.WriteFile(f, fmt.Appendf(data, "\n// edit %d\n", n), 0o644)
}

// addDependency makes the module require one more module, as adding an
// import and running go get does; removeDependency undoes it.
func addDependency(dir, pkg string) error {
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod.orig"), mod, 0o644); err != nil {
		return err
	}
	sum, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err := os.WriteFile(filepath.Join(dir, "go.sum.orig"), sum, 0o644); err != nil {
		return err
	}
	mod = append(mod, "\nrequire github.com/google/uuid v1.6.0\n"...)
	sum = append(sum, "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ngithub.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"...)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, pkg, "uuid.go"), []byte("package main\n\nimport \"github.com/google/uuid\"\n\nvar _ = uuid.New\n"), 0o644)
}

func removeDependency(dir, pkg string) error {
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(dir, name+".orig"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return os.Remove(filepath.Join(dir, pkg, "uuid.go"))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// measurement is the median of several runs of one tool in one scenario.
type measurement struct {
	wall, overhead time.Duration
	failed         error
}

// scenario runs before (untimed) then the timed build, runs times.
func (b *bench) scenario(ctx context.Context, t tool, dir, pkg string, platforms []string, runs int, before func(run int) error) measurement {
	var walls, overheads []time.Duration
	for i := range runs {
		if before != nil {
			if err := before(i); err != nil {
				return measurement{failed: err}
			}
		}
		wall, overhead, err := b.build(ctx, t, dir, pkg, platforms)
		if err != nil {
			return measurement{failed: err}
		}
		b.logf("%s: %v", t, wall.Round(time.Millisecond))
		walls = append(walls, wall)
		overheads = append(overheads, overhead)
	}
	return measurement{wall: median(walls), overhead: median(overheads)}
}

func (b *bench) report(ctx context.Context, w io.Writer, modules []module) error {
	native := "linux/" + runtime.GOARCH
	fmt.Fprintf(w, "# Benchmarks\n\nGenerated by `go run ./integration/bench -out docs/benchmarks.md` on %s.\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(w, "Machine: %d cores, %s, %s. BuildKit v0.33.1 (OCI worker, overlayfs), builder image from the host's Go. ", runtime.NumCPU(), memTotal(), goVersion())
	fmt.Fprintf(w, "Each cell is the median of %d runs (%d for cold builds), wall time of the whole solve including the OCI export.\n\n", b.runs, b.coldRuns)
	fmt.Fprintf(w, "- A: gobuild; B: the usual multi-stage Dockerfile (no cache mounts, builds for the target platform); C: the best hand-written Dockerfile (cache mounts, cross-compiled on the build platform); D: `go build` on the host, warm cache.\n")
	fmt.Fprintf(w, "- Ratios: A/C and A/D; lower is better for gobuild.\n\n")

	tools := []tool{toolA, toolB, toolC, toolD}
	for _, m := range modules {
		dir, err := workdir(m)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		one := []string{native}
		b.logf("== %s", m.name)
		fmt.Fprintf(w, "## %s\n\n| scenario | A | B | C | D | A/C | A/D |\n| --- | --- | --- | --- | --- | --- | --- |\n", m.name)
		edits := 0
		rows := []struct {
			name   string
			runs   int
			before func(t tool) func(int) error
		}{
			{"cold (empty BuildKit cache)", b.coldRuns, func(t tool) func(int) error {
				return func(int) error { return b.prune(ctx) }
			}},
			{"no-op rebuild", b.runs, func(tool) func(int) error { return nil }},
			{"one .go file changed", b.runs, func(tool) func(int) error {
				return func(int) error { edits++; return touch(dir, m.pkg, edits) }
			}},
			{"dependency added to go.mod", b.runs, func(t tool) func(int) error {
				return func(int) error {
					if _, err := os.Stat(filepath.Join(dir, m.pkg, "uuid.go")); err == nil {
						if err := removeDependency(dir, m.pkg); err != nil {
							return err
						}
						if _, _, err := b.build(ctx, t, dir, m.pkg, one); err != nil {
							return err
						}
					}
					return addDependency(dir, m.pkg)
				}
			}},
		}
		for _, row := range rows {
			res := map[tool]measurement{}
			for _, t := range tools {
				if t == toolD && row.name == rows[0].name {
					res[t] = measurement{failed: errSkipped} // D is the warm floor
					continue
				}
				// Warm up so that "no-op" and edits start from a built state.
				if row.name != rows[0].name {
					if _, _, err := b.build(ctx, t, dir, m.pkg, one); err != nil {
						res[t] = measurement{failed: err}
						continue
					}
				}
				b.logf("-- %s, %s", row.name, t)
				res[t] = b.scenario(ctx, t, dir, m.pkg, one, row.runs, row.before(t))
			}
			writeRow(w, row.name, res)
		}
		if _, err := os.Stat(filepath.Join(dir, m.pkg, "uuid.go")); err == nil {
			if err := removeDependency(dir, m.pkg); err != nil {
				return err
			}
		}

		// Platforms: an edit rebuilt for 1, 2 and 4 platforms.
		all := []string{native, "linux/arm64", "linux/arm/v7", "linux/ppc64le"}
		for _, n := range []int{1, 2, 4} {
			ps := all[:n]
			res := map[tool]measurement{}
			for _, t := range []tool{toolA, toolC} {
				if _, _, err := b.build(ctx, t, dir, m.pkg, ps); err != nil {
					res[t] = measurement{failed: err}
					continue
				}
				res[t] = b.scenario(ctx, t, dir, m.pkg, ps, b.runs, func(int) error { edits++; return touch(dir, m.pkg, edits) })
			}
			res[toolB] = measurement{failed: errSkipped}
			res[toolD] = measurement{failed: errSkipped}
			writeRow(w, fmt.Sprintf("one .go file changed, %d platform(s)", n), res)
		}
		fmt.Fprintln(w)
	}

	overhead, err := b.overheadAndSizes(ctx, w, modules[0])
	if err != nil {
		return err
	}
	_ = overhead
	return nil
}

var errSkipped = fmt.Errorf("not measured")

func writeRow(w io.Writer, name string, res map[tool]measurement) {
	cell := func(t tool) string {
		m := res[t]
		if m.failed == errSkipped {
			return "–"
		}
		if m.failed != nil {
			log.Printf("%s %s failed: %v", name, t, m.failed)
			return "failed"
		}
		return fmt.Sprintf("%.2fs", m.wall.Seconds())
	}
	ratio := func(a, b tool) string {
		if res[a].failed != nil || res[b].failed != nil || res[b].wall == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2fx", res[a].wall.Seconds()/res[b].wall.Seconds())
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
func (b *bench) overheadAndSizes(ctx context.Context, w io.Writer, m module) (time.Duration, error) {
	dir, err := workdir(m)
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	one := []string{"linux/" + runtime.GOARCH}
	if _, _, err := b.build(ctx, toolA, dir, m.pkg, one); err != nil {
		return 0, err
	}
	edits := 1000
	edit := b.scenario(ctx, toolA, dir, m.pkg, one, b.runs, func(int) error { edits++; return touch(dir, m.pkg, edits) })
	noop := b.scenario(ctx, toolA, dir, m.pkg, one, b.runs, nil)
	if edit.failed != nil || noop.failed != nil {
		return 0, fmt.Errorf("measuring overhead: %v %v", edit.failed, noop.failed)
	}
	fmt.Fprintf(w, "## Frontend overhead (%s)\n\n", m.name)
	fmt.Fprintf(w, "| measure | median |\n| --- | --- |\n")
	fmt.Fprintf(w, "| solve start to the first `go` process, after an edit | %dms |\n", edit.overhead.Milliseconds())
	fmt.Fprintf(w, "| whole no-op rebuild (everything cached, OCI export included) | %dms |\n\n", noop.wall.Milliseconds())

	fmt.Fprintf(w, "## Image size by base (%s, %s)\n\n", m.name, one[0])
	fmt.Fprintf(w, "| base | binary | image, compressed layers | image, uncompressed | added to the binary |\n| --- | --- | --- | --- | --- |\n")
	spec, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
	if err != nil {
		return 0, err
	}
	for _, base := range []string{"static", "scratch"} {
		variant := strings.Replace(string(spec), "image:\n", "image:\n  base: "+base+"\n", 1)
		if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(variant), 0o644); err != nil {
			return 0, err
		}
		sz, err := b.imageSizes(ctx, dir, one[0])
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", base, kb(sz.binary), kb(sz.compressed), kb(sz.uncompressed), kb(sz.uncompressed-sz.binary))
	}
	fmt.Fprintln(w)
	return edit.overhead, nil
}

func kb(n int64) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }
