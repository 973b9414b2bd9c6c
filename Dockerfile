# The gobuild frontend image: a static binary on an empty base, run by
# BuildKit's gateway when a spec's first line names this image. The test
# stage runs the unit tests (docker buildx bake test).
ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS base
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    --mount=type=cache,id=gobuild-gomodcache,target=/go/pkg/mod \
    go mod download

FROM base AS build
ARG TARGETOS TARGETARCH
RUN --mount=type=bind,target=. \
    --mount=type=cache,id=gobuild-gomodcache,target=/go/pkg/mod \
    --mount=type=cache,id=gobuild-gocache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/gobuild-frontend ./cmd/gobuild-frontend
# The helper the build's steps run (llb/helper): prebuilt here, for the
# platform the frontend runs on, so that no build compiles it first.
RUN --mount=type=bind,target=. \
    --mount=type=cache,id=gobuild-gocache,target=/root/.cache/go-build \
    cd llb/helper && GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/gobuild-helper main.go modcache.go gocache.go goroot.go

FROM base AS test
RUN --mount=type=bind,target=. \
    --mount=type=cache,id=gobuild-gomodcache,target=/go/pkg/mod \
    --mount=type=cache,id=gobuild-gocache,target=/root/.cache/go-build \
    go vet ./spec ./llb ./frontend && go test ./spec ./llb ./frontend

FROM scratch AS frontend
COPY --from=build /out/gobuild-frontend /bin/gobuild-frontend
COPY --from=build /out/gobuild-helper /lib/gobuild/gobuild-helper
# BuildKit reads these: the frontend needs no network, and it uses inputs
# (named contexts), subrequests (--call) and the contexts capability.
LABEL moby.buildkit.frontend.network.none="true" \
      moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
ARG VERSION=dev REVISION=""
LABEL org.opencontainers.image.title="gobuild" \
      org.opencontainers.image.description="BuildKit frontend that builds Go programs into minimal images from gobuild.yaml" \
      org.opencontainers.image.source="https://github.com/gobuildkit/gobuild" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
USER 65532:65532
ENTRYPOINT ["/bin/gobuild-frontend"]
