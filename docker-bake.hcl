// docker buildx bake builds the frontend image for every platform it ships on.
variable "REPO" {
  default = "ghcr.io/gobuildkit/gobuild"
}

variable "TAG" {
  default = "v0"
}

variable "GO_VERSION" {
  default = "1.26"
}

group "default" {
  targets = ["frontend"]
}

target "frontend" {
  context    = "."
  dockerfile = "Dockerfile"
  args = {
    GO_VERSION = GO_VERSION
  }
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["${REPO}:${TAG}"]
}
