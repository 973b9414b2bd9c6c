package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The several-binaries table settles how to build more than one main package
// of a module: one go build per binary, which BuildKit runs side by side,
// or one go build naming every main package, which compiles each shared
// package once. The gRPC module's server and healthcheck share grpc,
// protobuf and x/net. gobuild, which builds alike binaries together,
// stands beside C-style Dockerfiles of both shapes.

const twoBinariesSpec = `version: 1
go: "1.26"
binaries:
  - package: ./cmd/server
  - package: ./cmd/healthcheck
image:
  base: scratch
`

// perBinaryDockerfile is C with one RUN per binary, in parallel stages.
const perBinaryDockerfile = `FROM --platform=$BUILDPLATFORM golang:1.26 AS deps
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download
ARG TARGETOS TARGETARCH
ENV CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH
FROM deps AS server
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server
FROM deps AS healthcheck
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    go build -trimpath -ldflags="-s -w" -o /out/healthcheck ./cmd/healthcheck
FROM scratch
COPY --from=server /out/server /server
COPY --from=healthcheck /out/healthcheck /healthcheck
ENTRYPOINT ["/server"]
`

// oneBuildDockerfile is C with one go build for both main packages.
const oneBuildDockerfile = `FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/server ./cmd/healthcheck
FROM scratch
COPY --from=build /out/ /
ENTRYPOINT ["/server"]
`

// severalBinaries writes the several-binaries table for m, a module with
// cmd/server and cmd/healthcheck.
func (b *bench) severalBinaries(ctx context.Context, w io.Writer, m module) error {
	dir, err := b.workdir(m)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, text := range map[string]string{
		"gobuild.two.yaml":     twoBinariesSpec,
		"Dockerfile.perbinary": perBinaryDockerfile,
		"Dockerfile.onebuild":  oneBuildDockerfile,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	shapes := []struct {
		label string
		req   buildRequest
	}{
		{"A: gobuild", buildRequest{tool: toolA, filename: "gobuild.two.yaml"}},
		{"C, one RUN per binary", buildRequest{tool: toolC, filename: "Dockerfile.perbinary"}},
		{"C, one go build for both", buildRequest{tool: toolC, filename: "Dockerfile.onebuild"}},
	}
	edits := 0
	edit := func(pkgs ...string) func(int) error {
		return func(int) error {
			edits++
			for _, pkg := range pkgs {
				if err := touch(dir, pkg, edits); err != nil {
					return err
				}
			}
			return nil
		}
	}
	scenarios := []struct {
		name   string
		runs   int
		warm   bool
		before func(int) error
	}{
		{"cold (empty BuildKit cache)", b.coldRuns, false, func(int) error { return b.bed.Prune(ctx) }},
		{"one binary's main.go changed", b.runs, true, edit("cmd/server")},
		{"both main.go files changed", b.runs, true, edit("cmd/server", "cmd/healthcheck")},
	}
	for _, n := range []int{1, 2} {
		labels := make([]string, len(shapes))
		for i, s := range shapes {
			labels[i] = s.label
		}
		fmt.Fprintf(w, "%d platform(s):\n\n| scenario | %s |\n| --- |%s\n", n, strings.Join(labels, " | "), strings.Repeat(" --- |", len(shapes)))
		for _, sc := range scenarios {
			cells := make([]string, len(shapes))
			for i, s := range shapes {
				r := s.req
				r.dir, r.platforms = dir, allPlatforms[:n]
				b.logf("-- several binaries, %d platform(s), %s, %s", n, sc.name, s.label)
				m := measurement{}
				if sc.warm {
					if _, err := b.build(ctx, r); err != nil {
						m.failed = err
					}
				}
				if m.failed == nil {
					m = b.scenario(ctx, r, sc.runs, sc.before)
				}
				cells[i] = "failed"
				if m.failed != nil {
					b.logf("several binaries, %s, %s failed: %v", sc.name, s.label, m.failed)
				} else {
					cells[i] = fmt.Sprintf("%.2fs (go build span %.2fs)", m.wall.Seconds(), m.goSpan.Seconds())
				}
			}
			fmt.Fprintf(w, "| %s | %s |\n", sc.name, strings.Join(cells, " | "))
		}
		fmt.Fprintln(w)
	}
	return nil
}
