# The gobuild frontend image: a static binary on an empty base, run by
# BuildKit's gateway when a spec's first line names this image.
ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    --mount=type=cache,id=gobuild-gomodcache,target=/go/pkg/mod \
    go mod download
ARG TARGETOS TARGETARCH
RUN --mount=type=bind,target=. \
    --mount=type=cache,id=gobuild-gomodcache,target=/go/pkg/mod \
    --mount=type=cache,id=gobuild-gocache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/gobuild-frontend ./cmd/gobuild-frontend

FROM scratch
COPY --from=build /out/gobuild-frontend /bin/gobuild-frontend
LABEL moby.buildkit.frontend.network.none="true" \
      moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
USER 65532:65532
ENTRYPOINT ["/bin/gobuild-frontend"]
