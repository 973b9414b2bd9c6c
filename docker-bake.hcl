// docker buildx bake builds the frontend image for every platform it ships
// on (the default group); "test" runs the unit tests in BuildKit and
// "examples" builds every public example with the frontend.
//
//   docker buildx bake                                  # the frontend image
//   VERSION=v0.3.1 docker buildx bake --push            # a release, tagged v0.3.1, v0.3 and v0
//   docker buildx bake test examples                    # checks

variable "REPO" {
  default = "ghcr.io/gobuildkit/gobuild"
}

// VERSION is a release tag (v0.3.1). Empty builds the "edge" tag.
variable "VERSION" {
  default = ""
}

// REVISION is the commit the image is built from, for its labels.
variable "REVISION" {
  default = ""
}

variable "GO_VERSION" {
  default = "1.26"
}

// GOLANG_IMAGE is the toolchain image, for a mirror of golang:GO_VERSION.
variable "GOLANG_IMAGE" {
  default = "docker.io/library/golang:${GO_VERSION}"
}

// FRONTEND is the frontend image the examples are built with; set it to
// an image just pushed to try a change before it is released.
variable "FRONTEND" {
  default = "${REPO}:v0"
}

// tags gives a release its full, minor and major tags, so that specs can
// pin as tightly as they like (# syntax=ghcr.io/gobuildkit/gobuild:v0).
function "tags" {
  params = [repo, version]
  result = version == "" ? ["${repo}:edge"] : [
    "${repo}:${version}",
    "${repo}:${regex_replace(version, "^(v[0-9]+\\.[0-9]+).*$", "$1")}",
    "${repo}:${regex_replace(version, "^(v[0-9]+).*$", "$1")}",
  ]
}

group "default" {
  targets = ["frontend"]
}

target "_go" {
  args = {
    GO_VERSION = GO_VERSION
  }
  contexts = {
    "golang:${GO_VERSION}" = "docker-image://${GOLANG_IMAGE}"
  }
}

target "frontend" {
  inherits   = ["_go"]
  context    = "."
  dockerfile = "Dockerfile"
  target     = "frontend"
  args = {
    VERSION  = VERSION == "" ? "edge" : VERSION
    REVISION = REVISION
  }
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = tags(REPO, VERSION)
}

target "test" {
  inherits   = ["_go"]
  context    = "."
  dockerfile = "Dockerfile"
  target     = "test"
  output     = ["type=cacheonly"]
}

// The private example needs a module proxy and credentials of its own.
target "examples" {
  inherits   = ["_go"]
  name       = "example-${ex}"
  matrix     = { ex = ["hello", "multi", "files", "tested"] }
  context    = "examples/${ex}"
  dockerfile = "gobuild.yaml"
  args = {
    BUILDKIT_SYNTAX = FRONTEND
    VERSION         = VERSION == "" ? "dev" : VERSION
  }
  output = ["type=cacheonly"]
}
