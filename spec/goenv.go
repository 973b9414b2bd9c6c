package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Variables gobuild sets for the go command, refused in the spec's env
// maps: set there they would win over gobuild's value, and an arm64
// binary would land in an amd64 image, or cgo skip its checks. Each names
// what sets it instead.
var ownedEnv = map[string]string{
	"GOTOOLCHAIN": "is local: gobuild runs the builder image's toolchain; use go or builder",
	"GOCACHE":     "is gobuild's cache mount; BuildKit keeps the cache",
	"GOMODCACHE":  "is gobuild's cache mount; BuildKit keeps the cache",
	"GOCACHEPROG": "would replace gobuild's cache mount; BuildKit keeps the cache",
	"GOROOT":      "is the builder image's; choose the toolchain with go or builder",
	"GOPATH":      "is the builder image's; choose the toolchain with go or builder",
	"GOBIN":       "is the builder image's; gobuild decides where binaries go",
	"GOWORK":      "is the context's go.work, which gobuild reads to choose the sources go sees; only off, in the spec's env, builds the module alone",
	"GOENV":       "would read settings from a file; set them here, one variable each",
	// These would run a program of the spec's in the steps that write the
	// shared caches (docs/design.md, "Shared builders").
	"GOAUTH":          "runs a command to authenticate module fetches; pass credentials as the netrc secret (--secret id=netrc)",
	"PATH":            "is the builder image's; choose the toolchain with go or builder",
	"LD_PRELOAD":      "would load a library into every go command",
	"LD_LIBRARY_PATH": "would load libraries into every go command",
	"LD_AUDIT":        "would load a library into every go command",
	"GCONV_PATH":      "would load a library into every go command",
	"BASH_ENV":        "would run a script in every shell",
	"ENV":             "would run a script in every shell",
}

// prefixedEnv are families of variables refused like ownedEnv: git's,
// which can run programs and carry credentials (pass those as the netrc
// secret or the SSH agent), and ssh's.
var prefixedEnv = map[string]string{
	"GIT_": "configures git, which the go command runs to fetch modules: it can run programs and hold credentials; use the netrc secret or the SSH agent",
	"SSH_": "configures ssh, which git runs to fetch modules; use the SSH agent (--ssh default)",
}

// fetchEnv decide what go fetches and how it verifies it: they belong to
// the spec's env, where the module cache partition is named from them,
// not to one binary's or the tests'.
var fetchEnv = []string{"GOSUMDB", "GOINSECURE", "GONOPROXY", "GONOSUMCHECK", "GOVCS"}

// platformEnv are set from the target platform, variantEnv from its
// variant.
var (
	platformEnv = []string{"GOOS", "GOARCH", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM"}
	variantEnv  = []string{"GOARM", "GOAMD64", "GOARM64"}
)

// ownedEnvFix says why key=value cannot be set in the env map at at, and
// what to use; "" when it can.
func ownedEnvFix(at []any, key, value string) string {
	// The frontend reads the spec's GOWORK=off to leave go.work alone.
	if key == "GOWORK" && value == "off" && len(at) == 1 && at[0] == "env" {
		return ""
	}
	for _, k := range platformEnv {
		if k == key {
			return "is set by the target platform; use platforms"
		}
	}
	for _, k := range variantEnv {
		if k == key {
			return "is set by the target platform's variant; use a platform such as linux/amd64/v3 or linux/arm/v6"
		}
	}
	for _, f := range moduleSettingFields {
		if f.env == key {
			return fmt.Sprintf("is set by %s; use %s", f.field, f.field)
		}
	}
	if key == "CGO_ENABLED" {
		switch at[0] {
		case "binaries":
			return fmt.Sprintf("is set by cgo; use binaries[%d].cgo", at[1])
		case "test":
			return "is set by cgo; use test.cgo"
		}
		return "is set by cgo; use binaries[].cgo and test.cgo"
	}
	if fix, ok := ownedEnv[key]; ok {
		return fix
	}
	for prefix, fix := range prefixedEnv {
		if strings.HasPrefix(key, prefix) {
			return fix
		}
	}
	if slices.Contains(fetchEnv, key) && !(len(at) == 1 && at[0] == "env") {
		return "decides what go fetches for every go command; set it in the spec's env"
	}
	return ""
}

// checkGoflags checks each flag of goflags (GOFLAGS) against the allow-list
// of a binary's flags: GOFLAGS reaches every go command, and must not
// reach further than flags do.
func checkGoflags(goflags string) error {
	for _, f := range strings.Fields(goflags) {
		if err := checkFlag(f, buildFlags); err != nil {
			return err
		}
	}
	return nil
}

// urlUserinfo finds a URL with credentials (scheme://user[:password]@host).
var urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s,|@]*@`)

// checkNoCredentials refuses a module proxy or checksum database URL that
// carries credentials: its value reaches the steps' environment, and with
// it the build's definition, cache keys, logs and provenance. The error
// shows the URL with the credentials masked.
func checkNoCredentials(value string) error {
	if !urlUserinfo.MatchString(value) {
		return nil
	}
	masked := urlUserinfo.ReplaceAllString(value, "${1}***@")
	return fmt.Errorf("%q carries credentials in a URL, which would reach the build's definition, cache keys, logs and provenance; give the URL without them and pass them as a secret: --secret id=netrc,src=FILE with a line \"machine HOST login USER password TOKEN\"", masked)
}

// credentialedSettings are the variables whose URLs go fetches with.
var credentialedSettings = []string{"GOPROXY", "GOSUMDB"}
