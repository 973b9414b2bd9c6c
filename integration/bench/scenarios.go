package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

// syntaxSpec is the module's spec with its "# syntax=" line naming the
// bench's gobuild image, for A'.
const syntaxSpec = "gobuild.syntax.yaml"

// workdir copies a module with the Dockerfiles next to its spec, and the
// spec and best Dockerfile again behind "# syntax=" lines.
func (b *bench) workdir(m module) (string, error) {
	dir, err := os.MkdirTemp("", "gobuild-bench-")
	if err != nil {
		return "", err
	}
	if err := os.CopyFS(dir, os.DirFS(m.dir)); err != nil {
		return "", err
	}
	spec, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
	if err != nil {
		return "", err
	}
	if first, rest, ok := strings.Cut(string(spec), "\n"); ok && strings.HasPrefix(first, "# syntax=") {
		spec = []byte(rest)
	}
	files := map[string]string{
		"Dockerfile.naive":  fmt.Sprintf(naiveDockerfile, m.pkg),
		"Dockerfile.best":   fmt.Sprintf(bestDockerfile, m.pkg),
		"Dockerfile.syntax": "# syntax=" + b.dockerfileRef + "\n" + fmt.Sprintf(bestDockerfile, m.pkg),
		syntaxSpec:          "# syntax=" + b.gobuildRef + "\n" + string(spec),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
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

// touch changes one Go file's content, as an edit does.
func touch(dir, pkg string, n int) error {
	f := filepath.Join(dir, pkg, "main.go")
	data, err := os.ReadFile(f)
	if err != nil {
		return err
	}
	return os.WriteFile(f, fmt.Appendf(data, "\n// edit %d\n", n), 0o644)
}

// addedModule is a module the "dependency added" rows import: one with no
// dependencies, in neither sample's module graph, so that the version
// asked for is the one selected and the only module fetched.
type addedModule struct {
	path, name string
	// versions are added one per run, so that every run of a row adds a
	// version no earlier run of the row added (a row has no more runs
	// than xid's five versions).
	versions []string
}

// addedModules: tools that share a module cache (A and A0 gobuild's, C
// and C′ the Dockerfile's mount) add different modules, so that neither
// finds the other's download already there.
var addedModules = [2]addedModule{
	{"github.com/rs/xid", "xid", []string{"v1.6.0", "v1.5.0", "v1.4.0", "v1.3.0", "v1.2.1"}},
	// Not github.com/google/uuid: grpc requires its latest version, so an
	// older one downgrades grpc.
	{"github.com/pkg/errors", "errors", []string{"v0.9.1", "v0.9.0", "v0.8.1", "v0.8.0", "v0.7.1"}},
}

// addedFile is the file addDependency writes into the binary's package.
const addedFile = "added.go"

// addDependency imports the tool's added module at the run's version and
// updates go.mod and go.sum with the host's go get, as a developer does.
// The original go.mod and go.sum are kept beside the module (not in it,
// where they would change the build context) for removeDependency. The
// import's file names the tool and run: Go builds are reproducible, so
// without it B and C compile byte-identical binaries and C finds B's image
// layer already built and compressed.
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
	m := addedModules[0]
	if t == toolA0 || t == toolCs {
		m = addedModules[1]
	}
	if err := os.WriteFile(filepath.Join(dir, pkg, addedFile), fmt.Appendf(nil, "package main\n\nimport %q\n\nvar _ = %s.New // added for %s, run %d\n", m.path, m.name, t, run), 0o644); err != nil {
		return err
	}
	version := m.versions[run%len(m.versions)]
	cmd := exec.Command("go", "get", m.path+"@"+version)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go get %s@%s: %w\n%s", m.path, version, err, out)
	}
	return nil
}

// removeDependency undoes addDependency, if it was done.
func removeDependency(dir, pkg string) error {
	if _, err := os.Stat(filepath.Join(dir, pkg, addedFile)); os.IsNotExist(err) {
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
	return os.Remove(filepath.Join(dir, pkg, addedFile))
}

// dependencyAdded names the warm row of a go.mod change.
const dependencyAdded = "dependency added to go.mod"

// importingRows ends the names of the rows of a builder that lives on and
// imports a cache all the same.
const importingRows = ", builder importing a cache"

// moduleRows measures every scenario of one module.
func (b *bench) moduleRows(ctx context.Context, m module, dir string) ([]row, []string, error) {
	native := allPlatforms[:1]
	req := func(t tool, ps []string) buildRequest {
		return buildRequest{tool: t, dir: dir, pkg: m.pkg, platforms: ps}
	}
	edits := 0
	edit := func(int) error { edits++; return touch(dir, m.pkg, edits) }
	// B last: its one rebuild takes tens of seconds, which in the middle
	// of the first turn would part A's runs from C's.
	tools := []tool{toolA, toolA0, toolAs, toolC, toolCs, toolD, toolB}
	var rows []row

	measureAll := func(name string, runs int, warm bool, tools []tool, req func(tool) buildRequest, before func(t tool) func(int) error) {
		if !b.wants(name) {
			return
		}
		r := row{name: name, results: map[tool]measurement{}}
		var contenders []contender
		for _, t := range tools {
			// D is the warm floor. Cold behind "# syntax=", A′ and C′ pull
			// their frontend image too, and A′ takes the helper prebuilt
			// from it where A compiles it. A′ would share A's and A0's
			// module cache, which only two added modules keep apart.
			if !warm && t == toolD || name == dependencyAdded && t == toolAs || !b.measures(t) {
				r.results[t] = measurement{failed: errSkipped}
				continue
			}
			// Warm up so that rebuilds start from a built state: the
			// module's own, without an earlier tool's added dependency.
			if err := removeDependency(dir, m.pkg); err != nil {
				r.results[t] = measurement{failed: err}
				continue
			}
			if warm {
				// A builder that imports a cache exported it too, as CI does.
				warmUp := req(t)
				warmUp.cacheTo = warmUp.cacheFrom
				if _, err := b.build(ctx, warmUp); err != nil {
					r.results[t] = measurement{failed: err}
					continue
				}
			}
			n := runs
			if t == toolB && warm {
				n = 1 // tens of seconds a run, rebuilding everything each time
			}
			contenders = append(contenders, contender{req(t), n, before(t)})
		}
		b.logf("-- %s", name)
		maps.Copy(r.results, b.inTurns(ctx, contenders))
		rows = append(rows, r)
	}
	nativeReq := func(t tool) buildRequest { return req(t, native) }
	measureAll("cold (empty BuildKit cache)", b.coldRuns, false, tools, nativeReq, func(tool) func(int) error {
		return func(int) error { return b.bed.Prune(ctx) }
	})
	// A builder that lives on makes the dependency layers only when the
	// client imports a cache (a persistent CI runner passed the hosted
	// runners' --cache-from): then A0 is the same frontend without them.
	// Without an import A0 and A are one definition. One cache ref per
	// tool: each row's warm-up exports it again before the row's builds
	// import it.
	importing := func(t tool) buildRequest {
		r := req(t, native)
		r.cacheFrom = fmt.Sprintf("%s/bench-lived:%d", b.bed.Registry, slices.Index(tools, t))
		return r
	}
	for _, lived := range []struct {
		suffix string
		tools  []tool
		req    func(tool) buildRequest
		// firstRun numbers the row's added dependencies: A0 builds the
		// same definition in both rows, and must not find the other
		// row's build in the cache.
		firstRun int
	}{{"", tools, nativeReq, 0}, {importingRows, []tool{toolA, toolA0}, importing, b.runs}} {
		measureAll("no-op rebuild"+lived.suffix, b.runs, true, lived.tools, lived.req, func(tool) func(int) error { return nil })
		measureAll("one .go file changed"+lived.suffix, b.runs, true, lived.tools, lived.req, func(tool) func(int) error { return edit })
		// No more runs than versions to add: a version added again finds
		// its go.mod's steps (the download, A's layers) in the cache.
		dependencyRuns := min(b.runs, len(addedModules[0].versions))
		measureAll(dependencyAdded+lived.suffix, dependencyRuns, true, lived.tools, lived.req, func(t tool) func(int) error {
			return func(run int) error {
				// Every run starts from the original go.mod, built, and adds
				// a version no earlier run of the row added.
				if err := removeDependency(dir, m.pkg); err != nil {
					return err
				}
				if _, err := b.build(ctx, lived.req(t)); err != nil {
					return err
				}
				return addDependency(dir, m.pkg, t, lived.firstRun+run)
			}
		})
	}
	if err := removeDependency(dir, m.pkg); err != nil {
		return nil, nil, err
	}

	// Ephemeral CI builders fed by a registry cache: an edit, and a
	// dependency added (a new module to download and compile).
	for _, n := range []int{1, 2} {
		ps := allPlatforms[:n]
		addDep := func(t tool) (reset, change func() error) {
			runs := 0
			reset = func() error { return removeDependency(dir, m.pkg) }
			change = func() error { runs++; return addDependency(dir, m.pkg, t, runs) }
			return reset, change
		}
		for _, scenario := range []struct {
			name  string
			tools []tool
			// change is the commit the fresh builder builds; reset
			// restores the previous one first.
			change func(tool) (reset, change func() error)
		}{
			{"one .go file changed", []tool{toolA, toolA0, toolAs, toolB, toolC, toolCs}, func(tool) (func() error, func() error) {
				return nil, func() error { return edit(0) }
			}},
			{"dependency added", []tool{toolA, toolAs, toolC, toolCs}, addDep},
		} {
			r := row{name: fmt.Sprintf("fresh builder + registry cache, %s, %d platform(s)", scenario.name, n), results: map[tool]measurement{}}
			if !b.wants(r.name) {
				continue
			}
			for _, t := range tools {
				if !slices.Contains(scenario.tools, t) || (t == toolB && n > 1) || !b.measures(t) {
					r.results[t] = measurement{failed: errSkipped}
					continue
				}
				b.logf("-- %s, %s", r.name, t)
				reset, change := scenario.change(t)
				r.results[t] = b.freshBuilder(ctx, req(t, ps), reset, change)
			}
			rows = append(rows, r)
			if err := removeDependency(dir, m.pkg); err != nil {
				return nil, nil, err
			}
		}
	}
	if name := "same, A with GOBUILD_MODULE_CACHE=layer"; b.wants("fresh builder") && b.measures(toolA) {
		layer := row{name: name + " (fresh builder, one .go file changed, 1 platform)", results: map[tool]measurement{}}
		layerReq := req(toolA, native)
		layerReq.args = map[string]string{"GOBUILD_MODULE_CACHE": "layer"}
		b.logf("-- fresh builder, A (module layer)")
		for _, t := range tools {
			layer.results[t] = measurement{failed: errSkipped}
		}
		layer.results[toolA] = b.freshBuilder(ctx, layerReq, nil, func() error { return edit(0) })
		rows = append(rows, layer)
	}
	// A fresh builder spends most of an edit's build unpacking what it
	// pulled, which zstd does in a third of gzip's CPU time (unpigz's; a
	// quarter of Go's). A's builds take turns with gzip ones, build by
	// build, and the note compares the two; C runs after them.
	if r := (row{name: "fresh builder + registry cache compressed with zstd, one .go file changed, 2 platform(s)", results: map[tool]measurement{}}); b.wants(r.name) {
		for _, t := range tools {
			if t != toolA && t != toolC || !b.measures(t) {
				r.results[t] = measurement{failed: errSkipped}
				continue
			}
			b.logf("-- %s, %s", r.name, t)
			gzip := req(t, allPlatforms[:2])
			zstd := gzip
			zstd.cacheCompression = "zstd"
			if t != toolA {
				r.results[t] = b.freshBuilder(ctx, zstd, nil, func() error { return edit(0) })
				continue
			}
			var withGzip measurement
			withGzip, r.results[t] = b.freshTurns(ctx, gzip, zstd, func() error { return edit(0) })
			if withGzip.failed == nil {
				r.note = fmt.Sprintf("A with a gzip cache in the same turns: %.2fs; A zstd/gzip %.2fx, turn by turn", withGzip.wall.Seconds(), ratioOf(r.results[t], withGzip))
			}
		}
		rows = append(rows, r)
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
		compared := []tool{toolA, toolC}
		if n == 2 && variant.compression == "" {
			compared = []tool{toolA, toolA0, toolAs, toolC, toolCs}
		}
		// D, the floor, is the same edit, go build per platform on the
		// host, warmed up like A and C (the first foreign build compiles
		// the standard library for it).
		if variant.compression == "" {
			compared = append(compared, toolD)
		}
		var contenders []contender
		for _, t := range compared {
			if !b.measures(t) {
				r.results[t] = measurement{failed: errSkipped}
				continue
			}
			tr := req(t, ps)
			tr.compression = variant.compression
			if _, err := b.build(ctx, tr); err != nil {
				r.results[t] = measurement{failed: err}
				continue
			}
			contenders = append(contenders, contender{tr, b.runs, edit})
		}
		b.logf("-- %s", r.name)
		maps.Copy(r.results, b.inTurns(ctx, contenders))
		r.results[toolB] = measurement{failed: errSkipped}
		if n == 2 && m.emulated && b.multiArchGo != "" && b.measures(toolB) {
			qemu := req(toolB, ps)
			qemu.goImage = b.multiArchGo
			b.logf("-- %d platforms, B under emulation", n)
			r.results[toolB] = b.scenario(ctx, qemu, 1, edit)
			if a := r.results[toolA]; a.failed == nil && r.results[toolB].failed == nil {
				r.note = fmt.Sprintf("B/A %.1fx", r.results[toolB].wall.Seconds()/a.wall.Seconds())
			}
		}
		if _, ok := r.results[toolD]; !ok {
			r.results[toolD] = measurement{failed: errSkipped}
		}
		rows = append(rows, r)
		if a := r.results[toolA]; a.failed == nil {
			spans = append(spans, fmt.Sprintf("| %s | %d | %s | %.2fs | %.2fs | %.2fs | %.2fs |", m.name, n, cmp.Or(variant.compression, "gzip"), a.wall.Seconds(), a.goSpan.Seconds(), a.export.Seconds(), (a.wall-a.goSpan-a.export).Seconds()))
		}
	}
	b.moduleChecks(m, rows)
	return rows, spans, nil
}
