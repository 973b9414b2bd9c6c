// Package spec defines gobuild.yaml: its types, how it is decoded, its
// defaults and its validation. It has no BuildKit dependency so that the
// schema, the docs and the editor tooling can use it on their own.
//
// The doc comment of every field is its user documentation: the JSON Schema
// and docs/reference.md are generated from them (go generate ./spec).
package spec

import "gopkg.in/yaml.v3"

// DefaultFilename is the spec file a build reads when the client names none.
const DefaultFilename = "gobuild.yaml"

// Spec is the root of gobuild.yaml.
type Spec struct {
	// Version of the spec format. Only 1 exists.
	// Example: 1
	Version int `yaml:"version,omitempty"`
	// Go is the toolchain version, such as "1.26" or "1.26.8"; a patch
	// version pins it.
	// Default: the minor line of go.mod's toolchain directive, else of its
	// go directive ("1.23" for go 1.23.0): a go.mod names a minimum, and the
	// line's newest patch release has its security fixes.
	Go string `yaml:"go,omitempty"`
	// Module is the directory of the build context that holds go.mod.
	// Default: "."
	Module string `yaml:"module,omitempty"`
	// Builder is the toolchain image, always run on the build platform. Like
	// every image the frontend uses, a named build context of the same name
	// overrides it. Its Go must be 1.21 or newer where it compiles gobuild's
	// helper (the gobuild CLI; the frontend image brings the helper
	// prebuilt).
	// Default: "golang:<go>"
	Builder string `yaml:"builder,omitempty"`
	// Env is added to the environment of every go command (not the image).
	// Values are templates. What gobuild sets is refused here, each with
	// the field that sets it: the target (GOOS, GOARCH, GOARM, GOAMD64,
	// ...: platforms), CGO_ENABLED (cgo), the module settings (GOFLAGS:
	// goflags, GOPROXY: goproxy, ...), GOTOOLCHAIN, GOCACHE, GOMODCACHE,
	// GOCACHEPROG, GOROOT, GOPATH, GOBIN, GOWORK (but off, which builds the
	// module without its go.work) and GOENV.
	// Example: {GOFIPS140: latest}
	Env map[string]string `yaml:"env,omitempty"`
	// Goproxy sets GOPROXY for module downloads. Like the other module
	// settings it is a template, so a build-arg can fill it. Credentials for
	// a private proxy come from a build secret with id "netrc"
	// (--secret id=netrc,src=$HOME/.netrc); git over SSH uses --ssh default.
	// Example: "https://proxy.example.com,direct"
	Goproxy string `yaml:"goproxy,omitempty"`
	// Goprivate sets GOPRIVATE: module path patterns fetched directly, not
	// through the proxy or the checksum database.
	// Example: "github.com/acme/*"
	Goprivate string `yaml:"goprivate,omitempty"`
	// Gonosumdb sets GONOSUMDB: module path patterns not checked against the
	// checksum database.
	Gonosumdb string `yaml:"gonosumdb,omitempty"`
	// Goflags sets GOFLAGS for every go command. Its flags are those
	// binaries[].flags allows, written -name or -name=value; a template is
	// checked once rendered.
	// Example: "-mod=mod"
	Goflags string `yaml:"goflags,omitempty"`
	// Goexperiment sets GOEXPERIMENT for every go command.
	// Example: "greenteagc"
	Goexperiment string `yaml:"goexperiment,omitempty"`
	// Binaries are the main packages to build; the first one is the image's
	// entrypoint unless image.entrypoint says otherwise.
	Binaries []Binary `yaml:"binaries,omitempty"`
	// Platforms is the spec's default list of target platforms, for a
	// client that reads the spec to send them as its request (the gobuild
	// CLI without --platform). BuildKit clients (buildx, bake, buildctl)
	// build the platforms they ask for: asking for none is asking for the
	// daemon's platform, as with a Dockerfile, so pass --platform.
	// Default: the build platform.
	// Example: [linux/amd64, linux/arm64]
	Platforms []string `yaml:"platforms,omitempty"`
	// Image describes the final image.
	Image Image `yaml:"image,omitempty"`
	// Test configures the "test" target.
	Test Test `yaml:"test,omitempty"`
	// Debug configures the "debug" target: the image, with the binaries
	// built for a debugger and served by delve.
	Debug Debug `yaml:"debug,omitempty"`

	// doc keeps the decoded YAML so that errors found after decoding can
	// still point at a line.
	doc *yaml.Node
	// filename is the name errors are reported against.
	filename string
	// filled is set by FillDefaults once every default is in place.
	filled bool
	// goFrom says where Go came from, for the resolved spec.
	goFrom string
}

// Binary is one main package compiled into the image.
type Binary struct {
	// Package is the main package to build, relative to the module.
	// Example: ./cmd/server
	Package string `yaml:"package,omitempty"`
	// Name of the binary, installed as /usr/local/bin/<name>.
	// Default: the package's last path element; for the module root, the
	// last element of go.mod's module path (without a /vN suffix), as go
	// build names it.
	Name string `yaml:"name,omitempty"`
	// Tags are build tags, passed with -tags.
	// Example: [netgo, osusergo]
	Tags []string `yaml:"tags,omitempty"`
	// Ldflags are passed to the linker, after "-s -w" unless strip is false.
	// Each is a template, split into arguments at its spaces as go splits
	// -ldflags (a field may be wrapped in ' or "); a template's value is
	// always one argument, spaces and all, so a value cannot add flags.
	// Example: ["-X main.version={{.Version}}"]
	Ldflags []string `yaml:"ldflags,omitempty"`
	// Gcflags are passed to the compiler with -gcflags.
	// Example: ["-m"]
	Gcflags []string `yaml:"gcflags,omitempty"`
	// Asmflags are passed to the assembler with -asmflags.
	Asmflags []string `yaml:"asmflags,omitempty"`
	// Flags are further go build flags. Allowed: -a, -v, -x,
	// -mod=mod|readonly|vendor, -pgo=auto|off|PATH (inside the module),
	// -buildmode=exe|pie, -cover, -covermode=set|count|atomic, -coverpkg=,
	// -p=N; gobuild owns -o, -trimpath, -tags and the rest.
	// Example: ["-pgo=auto"]
	Flags []string `yaml:"flags,omitempty"`
	// Env is added to this binary's go build environment, after the spec's
	// env. Values are templates. The variables env refuses are refused here
	// too.
	Env map[string]string `yaml:"env,omitempty"`
	// Cgo enables cgo. The C toolchain of the builder image then compiles for
	// the build platform only: building for another platform is an error.
	// With base static or scratch, link statically
	// (ldflags: ["-linkmode=external", "-extldflags=-static"]).
	// Default: false
	Cgo bool `yaml:"cgo,omitempty"`
	// Trimpath removes file system paths from the binary (-trimpath).
	// Default: true
	Trimpath *bool `yaml:"trimpath,omitempty"`
	// Strip removes the symbol table and DWARF data (-ldflags "-s -w").
	// Default: true
	Strip *bool `yaml:"strip,omitempty"`
	// Buildvcs stamps version control information into the binary; the
	// context must then hold the .git directory and the builder git. go
	// build then sees the whole context, so that a clean checkout stamps
	// vcs.modified=false as on the host; a file .dockerignore excludes
	// looks deleted to git, and stamps vcs.modified=true.
	// Default: false
	Buildvcs bool `yaml:"buildvcs,omitempty"`
	// Platforms limits this binary to some of the target platforms.
	// Default: every target platform.
	// Example: [linux/amd64]
	Platforms []string `yaml:"platforms,omitempty"`
}

// Image describes the final image.
type Image struct {
	// Base is "static" (CA certificates, time zone data, passwd with a
	// nonroot user, nothing else), "scratch" (empty) or an image reference.
	// Default: static
	// Example: gcr.io/distroless/static-debian12
	Base string `yaml:"base,omitempty"`
	// Bases overrides base for some platforms.
	// Example: {linux/s390x: scratch}
	Bases map[string]string `yaml:"bases,omitempty"`
	// Cacerts puts the builder's CA bundle into the static base.
	// Default: true
	Cacerts *bool `yaml:"cacerts,omitempty"`
	// Tzdata puts Go's time zone database into the static base and sets
	// ZONEINFO to it.
	// Default: true
	Tzdata *bool `yaml:"tzdata,omitempty"`
	// ZoneinfoTree also unpacks that database as the /usr/share/zoneinfo
	// tree, for programs other than Go's time package (libc, a tz-aware
	// tool) that read files such as /usr/share/zoneinfo/Europe/Berlin.
	// It needs tzdata.
	// Default: false
	ZoneinfoTree bool `yaml:"zoneinfotree,omitempty"`
	// User the container runs as. When it is numeric (uid or uid:gid), the
	// workdir, the volumes and image.dirs belong to it; a user name cannot
	// be looked up at build time, so they are then root's.
	// Default: "65532" (nonroot)
	User string `yaml:"user,omitempty"`
	// Entrypoint of the image.
	// Default: the first binary.
	Entrypoint []string `yaml:"entrypoint,omitempty"`
	// Cmd holds the default arguments to the entrypoint.
	// Example: ["--addr=:8080"]
	Cmd []string `yaml:"cmd,omitempty"`
	// Env is added to the image's environment. Values are templates.
	// Example: {GOMEMLIMIT: 512MiB}
	Env map[string]string `yaml:"env,omitempty"`
	// Workdir is the working directory of the container. The image holds
	// it, owned by image.user (when numeric) with mode 0755, so that the
	// container's user can write there; its parents are root's, 0755.
	// Example: /data
	Workdir string `yaml:"workdir,omitempty"`
	// Ports the container listens on.
	// Example: [8080, "9090/udp"]
	Ports []Port `yaml:"ports,omitempty"`
	// Volumes are paths the container expects to be mounted. The image
	// holds each, owned by image.user (when numeric) with mode 0755, so that
	// a volume the runtime creates from it is writable by the container's
	// user; their parents are root's, 0755.
	// Example: [/data]
	Volumes []string `yaml:"volumes,omitempty"`
	// Labels are added to the image config. Values are templates. gobuild
	// adds org.opencontainers.image.version, .revision, .source and .created
	// when they are known, unless set here; a client's --label wins over both.
	// Example: {org.opencontainers.image.title: server}
	Labels map[string]string `yaml:"labels,omitempty"`
	// Annotations are added to each platform's manifest. Values are
	// templates.
	Annotations map[string]string `yaml:"annotations,omitempty"`
	// Stopsignal is the signal that stops the container.
	// Example: SIGTERM
	Stopsignal string `yaml:"stopsignal,omitempty"`
	// Healthcheck is run by the container runtime. Exec form only: there is
	// no shell in the image.
	Healthcheck *Healthcheck `yaml:"healthcheck,omitempty"`
	// Files are copied from the build context into the image, in a layer of
	// their own (the equivalent of ko's kodata). Parent directories they
	// need are made root's, 0755.
	Files []File `yaml:"files,omitempty"`
	// Dirs are empty directories made in the image, in a layer after the
	// files, together with the workdir and the volumes: places the
	// container's user writes to. Parents they need are root's, 0755 (but
	// /tmp and /home/nonroot keep the static base's owner and mode).
	// Example: [{path: /var/cache/app}]
	Dirs []Dir `yaml:"dirs,omitempty"`
}

// Dir is an empty directory in the image.
type Dir struct {
	// Path is the absolute path of the directory.
	// Example: /var/lib/app
	Path string `yaml:"path,omitempty"`
	// Owner is "uid" or "uid:gid".
	// Default: image.user when it is numeric, else "0:0"
	Owner string `yaml:"owner,omitempty"`
	// Mode is the directory's octal mode.
	// Default: "0755"
	// Example: "0700"
	Mode string `yaml:"mode,omitempty"`
}

// Healthcheck tells the runtime how to check that the container works.
type Healthcheck struct {
	// Command to run, exec form: the program and its arguments.
	// Example: [/usr/local/bin/server, healthcheck]
	Command []string `yaml:"command,omitempty"`
	// Interval between checks, a Go duration.
	// Example: 30s
	Interval string `yaml:"interval,omitempty"`
	// Timeout of one check, a Go duration.
	// Example: 5s
	Timeout string `yaml:"timeout,omitempty"`
	// StartPeriod is the grace period after start, a Go duration.
	StartPeriod string `yaml:"startPeriod,omitempty"`
	// Retries is the number of failures before the container is unhealthy.
	Retries int `yaml:"retries,omitempty"`
}

// File is a file or directory copied from the build context into the image.
type File struct {
	// Src is a path in the build context. A symlink there is copied as
	// what it names, which must be inside the context too.
	// Example: ./static
	Src string `yaml:"src,omitempty"`
	// Dst is the absolute path in the image.
	// Example: /srv/static
	Dst string `yaml:"dst,omitempty"`
	// Owner is "uid" or "uid:gid", given to dst and everything copied into
	// it; parents of dst are root's.
	// Default: "0:0"
	Owner string `yaml:"owner,omitempty"`
	// Mode is an octal mode for every file copied. Directories (dst too)
	// get it with the execute bit added wherever it has read, so that
	// they can be entered: "0444" makes files 0444 and directories 0555.
	// A file executable in the context gets those execute bits too, as
	// with chmod a=rX.
	// Default: the modes in the build context
	// Example: "0444"
	Mode string `yaml:"mode,omitempty"`
}

// Test configures the "test" target, which runs go test on the build
// platform.
type Test struct {
	// Packages to test.
	// Default: ["./..."]
	Packages []string `yaml:"packages,omitempty"`
	// Flags are further go test flags. Allowed: -run=, -skip=, -short,
	// -count=, -timeout=, -v, -cover, -covermode=, -coverpkg=, -failfast,
	// -shuffle=, -bench=, -benchtime=, -cpu=, -parallel=.
	// Example: ["-short", "-count=1"]
	Flags []string `yaml:"flags,omitempty"`
	// Tags are build tags for the tests.
	Tags []string `yaml:"tags,omitempty"`
	// Env is added to the go test environment. Values are templates. The
	// variables env refuses are refused here too.
	Env map[string]string `yaml:"env,omitempty"`
	// Cgo enables cgo for the tests (needed by -race).
	// Default: false
	Cgo bool `yaml:"cgo,omitempty"`
}

// Debug is the debug target's image: the image target's, with each binary
// built with optimizations and inlining off (-gcflags=all=-N -l), symbols
// and DWARF kept and source paths left in (no -trimpath), and the
// entrypoint started under delve's headless server.
type Debug struct {
	// Delve is the version of github.com/go-delve/delve the image runs,
	// built for the target platform by the builder's go.
	// Default: v1.27.2
	// Example: v1.27.2
	Delve string `yaml:"delve,omitempty"`
	// Listen is the address delve serves its API on (host:port or :port);
	// the port is exposed.
	// Default: ":2345"
	Listen string `yaml:"listen,omitempty"`
	// Continue starts the program at once rather than when a debugger
	// attaches.
	// Default: true
	Continue *bool `yaml:"continue,omitempty"`
}

// Debug target defaults.
const (
	DefaultDelve       = "v1.27.2"
	DefaultDebugListen = ":2345"
)

// Port is a port number with an optional "/tcp", "/udp" or "/sctp" suffix.
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
