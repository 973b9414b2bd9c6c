package spec

import (
	"strings"
	"testing"
)

// TestOwnedEnv: a variable gobuild sets is refused in every go command's
// env, each error naming the key and the field that sets it.
func TestOwnedEnv(t *testing.T) {
	const head = "version: 1\nbinaries:\n  - package: ./cmd/x\n"
	cases := []struct{ name, spec, want string }{
		{"GOARCH in a binary", head + "    env: {GOARCH: arm64}\n", "4:11: binaries[0].env: GOARCH is set by the target platform; use platforms"},
		{"GOOS everywhere", head + "env: {GOOS: windows}\n", "4:7: env: GOOS is set by the target platform; use platforms"},
		{"GOAMD64", head + "    env: {GOAMD64: v3}\n", "4:11: binaries[0].env: GOAMD64 is set by the target platform's variant; use a platform such as linux/amd64/v3"},
		{"GOARM in tests", head + "test:\n  env: {GOARM: \"6\"}\n", "5:9: test.env: GOARM is set by the target platform's variant"},
		{"CGO_ENABLED in a binary", head + "    env: {CGO_ENABLED: \"1\"}\n", "4:11: binaries[0].env: CGO_ENABLED is set by cgo; use binaries[0].cgo"},
		{"CGO_ENABLED in tests", head + "test:\n  env: {CGO_ENABLED: \"1\"}\n", "5:9: test.env: CGO_ENABLED is set by cgo; use test.cgo"},
		{"CGO_ENABLED everywhere", head + "env: {CGO_ENABLED: \"1\"}\n", "4:7: env: CGO_ENABLED is set by cgo; use binaries[].cgo and test.cgo"},
		{"GOFLAGS", head + "env: {GOFLAGS: -toolexec=/bin/sh}\n", "4:7: env: GOFLAGS is set by goflags; use goflags"},
		{"GOFLAGS in a binary", head + "    env: {GOFLAGS: -mod=mod}\n", "binaries[0].env: GOFLAGS is set by goflags; use goflags"},
		{"GOEXPERIMENT", head + "test:\n  env: {GOEXPERIMENT: x}\n", "test.env: GOEXPERIMENT is set by goexperiment; use goexperiment"},
		{"GOPROXY", head + "env: {GOPROXY: off}\n", "env: GOPROXY is set by goproxy; use goproxy"},
		{"GOTOOLCHAIN", head + "env: {GOTOOLCHAIN: auto}\n", "env: GOTOOLCHAIN is local: gobuild runs the builder image's toolchain; use go or builder"},
		{"GOCACHE", head + "env: {GOCACHE: /tmp/c}\n", "env: GOCACHE is gobuild's cache mount"},
		{"GOMODCACHE", head + "env: {GOMODCACHE: /tmp/c}\n", "env: GOMODCACHE is gobuild's cache mount"},
		{"GOCACHEPROG", head + "env: {GOCACHEPROG: /bin/x}\n", "env: GOCACHEPROG"},
		{"GOROOT", head + "env: {GOROOT: /x}\n", "env: GOROOT is the builder image's"},
		{"GOPATH", head + "env: {GOPATH: /x}\n", "env: GOPATH is the builder image's"},
		{"GOBIN", head + "env: {GOBIN: /x}\n", "env: GOBIN is the builder image's"},
		{"GOWORK", head + "env: {GOWORK: ../other.work}\n", "env: GOWORK is the context's go.work, which gobuild reads"},
		{"GOWORK off in a binary", head + "    env: {GOWORK: \"off\"}\n", "binaries[0].env: GOWORK is the context's go.work"},
		{"GOENV", head + "env: {GOENV: ./goenv}\n", "env: GOENV would read settings from a file; set them here"},
		{"GOAUTH", head + "env: {GOAUTH: sh /src/x}\n", "env: GOAUTH runs a command"},
		{"PATH", head + "env: {PATH: /src/bin}\n", "env: PATH is the builder image's"},
		{"LD_PRELOAD", head + "    env: {LD_PRELOAD: /src/x.so}\n", "binaries[0].env: LD_PRELOAD would load a library"},
		{"git's config", head + "env: {GIT_CONFIG_COUNT: \"1\"}\n", "env: GIT_CONFIG_COUNT configures git"},
		{"ssh's", head + "env: {SSH_AUTH_SOCK: /x}\n", "env: SSH_AUTH_SOCK configures ssh"},
		{"GOSUMDB in a binary", head + "    env: {GOSUMDB: off}\n", "binaries[0].env: GOSUMDB decides what go fetches for every go command; set it in the spec's env"},
		{"GOINSECURE in the tests", head + "test:\n  env: {GOINSECURE: example.com}\n", "test.env: GOINSECURE decides what go fetches"},
		{"two at once", head + "    env: {GOOS: a, GOARCH: b}\n", "binaries[0].env: GOARCH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("gobuild.yaml", []byte(tc.spec))
			if !matchesOne(Errors(err), tc.want) {
				t.Errorf("no error matches %q; got:\n%v", tc.want, err)
			}
		})
	}
	// The image's env is the container's, not the go command's: any name.
	if _, err := Parse("gobuild.yaml", []byte(head+"env: {GOFIPS140: latest, GODEBUG: x, CC: clang, GOWORK: \"off\", GOSUMDB: off}\nimage:\n  env: {GOARCH: arm64, GOFLAGS: x}\n")); err != nil {
		t.Errorf("variables gobuild does not own: %v", err)
	}
}

// TestGoflags: goflags reach every go command, so they pass the same
// allow-list as a binary's flags.
func TestGoflags(t *testing.T) {
	const head = "version: 1\nbinaries:\n  - package: ./cmd/x\n"
	cases := []struct{ goflags, want string }{
		{"-mod=mod", ""},
		{"-mod=vendor -p=4 -v", ""},
		{"{{.Args.FLAGS}}", ""},
		{"-toolexec=/bin/sh", `4:10: goflags: flag "-toolexec=/bin/sh" is not allowed`},
		{"-mod=mod -overlay=/x.json", `4:10: goflags: flag "-overlay=/x.json" is not allowed`},
		{"-ldflags=-X=a", `goflags: flag "-ldflags=-X=a" is not allowed`},
		{"-o=/x", `goflags: flag "-o=/x" is not allowed`},
		{"mod=mod", `goflags: flag "mod=mod" must start with -`},
	}
	for _, tc := range cases {
		_, err := Parse("gobuild.yaml", []byte(head+"goflags: \""+tc.goflags+"\"\n"))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("goflags %q: %v", tc.goflags, err)
		case tc.want != "" && !matchesOne(Errors(err), tc.want):
			t.Errorf("goflags %q: no error matches %q; got:\n%v", tc.goflags, tc.want, err)
		}
	}
	// A template is checked once rendered, where its flags are known.
	s := mustParse(t, head+"goflags: \"{{.Args.FLAGS}}\"\n")
	_, err := s.Rendered(TemplateData{Args: map[string]string{"FLAGS": "-toolexec=x"}}, PartGo)
	if errs := Errors(err); len(errs) != 1 || !strings.Contains(errs[0].Error(), `4:10: goflags: flag "-toolexec=x" is not allowed`) {
		t.Errorf("rendered goflags: %v", err)
	}
	if r, err := s.Rendered(TemplateData{Args: map[string]string{"FLAGS": "-mod=mod"}}, PartGo); err != nil || r.Goflags != "-mod=mod" {
		t.Errorf("rendered goflags = %q, %v", r.Goflags, err)
	}
}

// A module proxy URL with credentials would put them in the build's
// definition, cache keys, logs and provenance: refused at its line, the
// credentials masked in the error, whether written or templated.
func TestProxyCredentialsRefused(t *testing.T) {
	const head = "version: 1\nbinaries:\n  - package: ./cmd/x\n"
	const token = "s3cr3t-t0ken"
	for _, tc := range []struct {
		name, yaml string
		args       map[string]string
		want       string
	}{
		{"a public proxy", "goproxy: https://proxy.golang.org,direct\n", nil, ""},
		{"a file proxy", "goproxy: file:///gobuild/mods,off\n", nil, ""},
		{"credentials in goproxy", "goproxy: https://ci:" + token + "@goproxy.corp.example,direct\n", nil, `4:10: goproxy: "https://***@goproxy.corp.example,direct" carries credentials`},
		{"a token as the user", "goproxy: \"https://proxy.golang.org|https://" + token + "@goproxy.corp.example\"\n", nil, `"https://proxy.golang.org|https://***@goproxy.corp.example" carries credentials`},
		{"credentials in a binary's env", "    env:\n      GOPROXY: https://ci:" + token + "@goproxy.corp.example\n", nil, `5:16: binaries[0].env[GOPROXY]: "https://***@goproxy.corp.example" carries credentials`},
		{"credentials in GOSUMDB", "env:\n  GOSUMDB: \"sum.corp.example+key https://ci:" + token + "@sum.corp.example\"\n", nil, "carries credentials"},
		{"a templated proxy with credentials", "goproxy: \"{{.Args.PROXY}}\"\n", map[string]string{"PROXY": "https://ci:" + token + "@goproxy.corp.example"}, `goproxy: "https://***@goproxy.corp.example" carries credentials`},
		{"a templated proxy without", "goproxy: \"{{.Args.PROXY}}\"\n", map[string]string{"PROXY": "https://goproxy.corp.example"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("gobuild.yaml", []byte(head+tc.yaml))
			if err == nil && tc.args != nil {
				_, err = s.Rendered(TemplateData{Args: tc.args}, PartGo, PartBinary(0))
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && !matchesOne(Errors(err), tc.want):
				t.Errorf("no error matches %q; got:\n%v", tc.want, err)
			case err != nil && strings.Contains(err.Error(), token):
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}
