// A service repository's bake file: the image for two platforms, its
// binaries for a release, and the tests, all from gobuild.yaml.

variable "IMAGE" {
  default = "ghcr.io/example/hello"
}

// VERSION reaches the spec's {{.Version}} (ldflags, labels).
variable "VERSION" {
  default = "dev"
}

group "default" {
  targets = ["test", "image"]
}

target "_common" {
  context    = "."
  dockerfile = "gobuild.yaml"
  args = {
    VERSION = VERSION
    // Ephemeral CI runners lose cache mounts; keep modules in a layer
    // that the registry cache carries from run to run.
    GOBUILD_MODULE_CACHE = "layer"
  }
}

target "test" {
  inherits = ["_common"]
  target   = "test"
  output   = ["type=cacheonly"]
}

target "image" {
  inherits   = ["_common"]
  platforms  = ["linux/amd64", "linux/arm64"]
  tags       = ["${IMAGE}:${VERSION}"]
  cache-from = ["type=registry,ref=${IMAGE}:buildcache"]
  // zstd: the next runner unpacks the compiled dependencies faster than
  // gzip's. Forced: a layer imported as gzip, or compressed so for the
  // image, would stay gzip.
  cache-to = ["type=registry,ref=${IMAGE}:buildcache,mode=max,compression=zstd,force-compression=true"]
}

target "binaries" {
  inherits  = ["_common"]
  target    = "binaries"
  platforms = ["linux/amd64", "linux/arm64"]
  output    = ["type=local,dest=dist"]
}
