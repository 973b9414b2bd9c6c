// Package spec defines gobuild.yaml: its types, how it is decoded, its
// defaults and its validation. It has no BuildKit dependency so that the
// schema, the docs and the editor tooling can use it on their own.
package spec

import "gopkg.in/yaml.v3"

// DefaultFilename is the spec file a build reads when the client names none.
const DefaultFilename = "gobuild.yaml"

// Spec is the root of gobuild.yaml.
type Spec struct {
	// Version of the spec format. Only 1 exists.
	Version int `yaml:"version"`
	// Go is the toolchain version, such as "1.26" or "1.26.8". Defaults to the
	// go.mod toolchain directive, else its go directive.
	Go string `yaml:"go"`
	// Module is the directory, relative to the build context, that holds
	// go.mod. Defaults to ".".
	Module string `yaml:"module"`
	// Builder is the toolchain image the binaries are compiled in, always on
	// the build platform. Defaults to "golang:<go>". Like every image the
	// frontend uses, it can be redirected with a named build context.
	Builder string `yaml:"builder"`
	// Env is added to the environment of every go command (not the image).
	Env map[string]string `yaml:"env"`
	// Binaries are the main packages to build; the first one is the image's
	// entrypoint unless image.entrypoint says otherwise.
	Binaries []Binary `yaml:"binaries"`
	// Platforms to build when the client asks for none, such as
	// ["linux/amd64", "linux/arm64"]. Defaults to the build platform.
	Platforms []string `yaml:"platforms"`
	// Image describes the final image.
	Image Image `yaml:"image"`

	// doc keeps the decoded YAML so that errors found after decoding can
	// still point at a line.
	doc *yaml.Node
	// filename is the name errors are reported against.
	filename string
}

// Binary is one main package compiled into the image.
type Binary struct {
	// Package is the main package to build, relative to the module, such as
	// "./cmd/server".
	Package string `yaml:"package"`
	// Name of the binary in the image. Defaults to the package's last path
	// element.
	Name string `yaml:"name"`
	// Tags are build tags passed to go build with -tags.
	Tags []string `yaml:"tags"`
	// Ldflags are passed to the linker after "-s -w". Each is a Go template
	// that can use {{.Version}}, {{.Commit}}, {{.Target.OS}},
	// {{.Target.Arch}} and {{.Target.Variant}}.
	Ldflags []string `yaml:"ldflags"`
}

// Image describes the final image.
type Image struct {
	// Base is "static" (default: CA certificates, time zone data, passwd
	// with a nonroot user, nothing else), "scratch" (empty), or an image
	// reference such as "gcr.io/distroless/static-debian12".
	Base string `yaml:"base"`
	// User the container runs as. Defaults to 65532 (nonroot).
	User string `yaml:"user"`
	// Entrypoint of the image. Defaults to the first binary.
	Entrypoint []string `yaml:"entrypoint"`
	// Cmd holds the default arguments to the entrypoint.
	Cmd []string `yaml:"cmd"`
	// Env is added to the image's environment.
	Env map[string]string `yaml:"env"`
	// Workdir is the working directory of the container.
	Workdir string `yaml:"workdir"`
	// Ports the container listens on: 8080 or "8080/udp".
	Ports []Port `yaml:"ports"`
	// Labels are added to the image config.
	Labels map[string]string `yaml:"labels"`
}

// Port is a port number with an optional "/tcp" or "/udp" suffix.
type Port string

// Base image kinds that are not image references.
const (
	BaseStatic  = "static"
	BaseScratch = "scratch"
)

// BinDir is where binaries are installed in the image.
const BinDir = "/usr/local/bin"

// DefaultUser is the nonroot user of the static base (and of distroless).
const DefaultUser = "65532"
