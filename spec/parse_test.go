package spec

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	s, err := Parse("gobuild.yaml", []byte(`# syntax=example.com/gobuild
version: 1
binaries:
  - package: ./cmd/server
    ldflags: ["-X main.version={{.Version}}"]
  - package: ./cmd/tool
    name: gotool
    tags: [netgo]
platforms: [linux/amd64, linux/arm/v7]
image:
  ports: [8080, "9090/udp"]
  env: {MODE: prod}
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Binaries[0].Name != "" || s.Image.Base != "" || s.Filled() {
		t.Errorf("Parse filled defaults: name=%q base=%q", s.Binaries[0].Name, s.Image.Base)
	}
	if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
		t.Fatal(err)
	}
	if s.Binaries[0].Name != "server" || s.Binaries[1].Name != "gotool" {
		t.Errorf("names = %q, %q", s.Binaries[0].Name, s.Binaries[1].Name)
	}
	if s.Image.Base != BaseStatic || s.Image.User != DefaultUser || s.Module != "." {
		t.Errorf("defaults not applied: base=%q user=%q module=%q", s.Image.Base, s.Image.User, s.Module)
	}
	if got := strings.Join(s.Image.Entrypoint, " "); got != "/usr/local/bin/server" {
		t.Errorf("entrypoint = %q", got)
	}
	if s.Go != "1.26" || s.Builder != "golang:1.26" {
		t.Errorf("go=%q builder=%q", s.Go, s.Builder)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "version: 1\nbinaries:\n  - package: ./cmd/server\n"
	cases := []struct {
		name string
		spec string
		// want lists "line:col: message fragment" for each expected error;
		// col 0 means the column is not checked.
		want []string
	}{
		{"empty", "", []string{"0:0: the spec is empty"}},
		{"only a document marker", "---", []string{"0:0: the spec is empty"}},
		{"null", "# comment\nnull\n", []string{"0:0: the spec is empty"}},
		{"not yaml", "version: [1\n", []string{"1:0: invalid YAML"}},
		{"root is a list", "- a\n", []string{"1:1: the spec must be a mapping"}},
		{"unknown top-level field", head + "imgae: {}\n", []string{`4:1: unknown field "imgae" in the spec; did you mean "image"?`}},
		{"unknown binary field", head + "    ldflag: [x]\n", []string{`4:5: unknown field "ldflag" in binaries[0]; did you mean "ldflags"?`}},
		{"unknown field, no close match", head + "zzzzzz: 1\n", []string{"4:1: unknown field \"zzzzzz\" in the spec; valid fields: binaries, builder"}},
		{"shape and meaning at once", head + "    tags: netgo\nplatforms: [linux/sparc]\nimage:\n  ports: [0]\n", []string{"4:11: binaries[0].tags must be a list", `5:13: platforms[0]: "linux/sparc"`, `7:11: image.ports[0]: "0" is not a port`}},
		{"two unknown fields at once", head + "foo: 1\nimage:\n  bar: 2\n", []string{`4:1: unknown field "foo"`, `6:3: unknown field "bar" in image`}},
		{"duplicate key", head + "go: '1.26'\ngo: '1.25'\n", []string{"5:1: go is set twice"}},
		{"version is a word", "version: one\nbinaries: [{package: ./x}]\n", []string{"1:10: version must be a whole number"}},
		{"version missing", "binaries: [{package: ./x}]\n", []string{"1:1: version is missing"}},
		{"version 2", "version: 2\nbinaries: [{package: ./x}]\n", []string{"1:10: version 2 is not supported"}},
		{"binaries missing", "version: 1\n", []string{"1:1: binaries is missing"}},
		{"binaries empty", "version: 1\nbinaries: []\n", []string{"2:11: binaries is missing or empty"}},
		{"binaries is a mapping", "version: 1\nbinaries: {package: ./x}\n", []string{"2:11: binaries must be a list, not a mapping"}},
		{"binary is a string", "version: 1\nbinaries: [./cmd/x]\n", []string{`2:12: binaries[0] must be a mapping of fields, not "./cmd/x"`}},
		{"package missing", "version: 1\nbinaries:\n  - name: x\n", []string{"3:5: binaries[0].package is missing"}},
		{"package absolute", "version: 1\nbinaries:\n  - package: /cmd/x\n", []string{`3:14: binaries[0].package "/cmd/x" must be a path inside the module`}},
		{"package outside module", "version: 1\nbinaries:\n  - package: ./../x\n", []string{"3:14: binaries[0].package"}},
		{"package pattern", "version: 1\nbinaries:\n  - package: ./cmd/...\n", []string{"3:14: binaries[0].package"}},
		{"bad name", "version: 1\nbinaries:\n  - package: ./x\n    name: a/b\n", []string{`4:11: binaries[0].name "a/b" is not a file name`}},
		{"duplicate names", head + "  - package: ./other/server\n", []string{`4:5: binaries[0] and binaries[1] are both named "server"`}},
		{"tags not a list", head + "    tags: netgo\n", []string{"4:11: binaries[0].tags must be a list"}},
		{"bad tag", head + "    tags: [\"a b\"]\n", []string{`4:12: binaries[0].tags[0] "a b" is not a build tag`}},
		{"unknown template field", head + "    ldflags: [\"-X main.v={{.Versoin}}\"]\n", []string{"4:15: binaries[0].ldflags[0]: invalid template", "Versoin"}},
		{"broken template", head + "    ldflags: [\"{{.Version\"]\n", []string{"4:15: binaries[0].ldflags[0]: invalid template"}},
		{"bad platform", head + "platforms: [linux/amd64, \"linux//x\"]\n", []string{`4:26: platforms[1]: "linux//x" is not a platform`}},
		{"windows platform", head + "platforms: [windows/amd64]\n", []string{`4:13: platforms[0]: "windows/amd64": only linux images are supported`}},
		{"unsupported arch", head + "platforms: [linux/sparc]\n", []string{`4:13: platforms[0]: "linux/sparc": architecture "sparc" is not supported by Go`}},
		{"bad arm variant", head + "platforms: [linux/arm/v9]\n", []string{`arm variant "v9" is not supported`}},
		{"platforms not a list", head + "platforms: linux/amd64\n", []string{"4:12: platforms must be a list"}},
		{"bad go version", head + "go: banana\n", []string{`4:5: go "banana" is not a Go version`}},
		{"module outside context", head + "module: ../x\n", []string{`4:9: module "../x" must be a directory inside the build context`}},
		{"bad builder", head + "builder: \"UPPER:case\"\n", []string{`4:10: builder "UPPER:case" is not an image reference`}},
		{"env not a mapping", head + "env: [A=b]\n", []string{"4:6: env must be a mapping, not a list"}},
		{"bad base", head + "image:\n  base: \"Not An Image\"\n", []string{`5:9: image.base: "Not An Image" is neither`}},
		{"image not a mapping", head + "image: static\n", []string{`4:8: image must be a mapping of fields, not "static"`}},
		{"port zero", head + "image:\n  ports: [0]\n", []string{`5:11: image.ports[0]: "0" is not a port`}},
		{"port too big", head + "image:\n  ports: [70000]\n", []string{`5:11: image.ports[0]: "70000" is not a port`}},
		{"port protocol", head + "image:\n  ports: [\"80/http\"]\n", []string{`5:11: image.ports[0]: "80/http": protocol must be tcp, udp or sctp`}},
		{"relative workdir", head + "image:\n  workdir: app\n", []string{`5:12: image.workdir "app" must be an absolute path`}},
		{"entrypoint not a list", head + "image:\n  entrypoint: /app\n", []string{"5:15: image.entrypoint must be a list"}},
		{"labels not a mapping", head + "image:\n  labels: [a]\n", []string{"5:11: image.labels must be a mapping"}},
		{"bad env name", head + "image:\n  env: {\"A=B\": x}\n", []string{`5:9: image.env "A=B" is not a valid variable name`}},
		{"user is a list", head + "image:\n  user: [1]\n", []string{"5:9: image.user must be a string, not a list"}},
		{"flag -o refused", head + "    flags: [\"-o=/tmp/x\"]\n", []string{`4:13: binaries[0].flags[0]: flag "-o=/tmp/x" is not allowed`}},
		{"flag -toolexec refused", head + "    flags: [-toolexec=x]\n", []string{`4:13: binaries[0].flags[0]: flag "-toolexec=x" is not allowed`}},
		{"flag needs value", head + "    flags: [-pgo]\n", []string{`4:13: binaries[0].flags[0]: flag "-pgo" needs a value`}},
		{"buildmode other than exe or pie", head + "    flags: [-buildmode=plugin]\n", []string{`4:13: binaries[0].flags[0]: flag "-buildmode=plugin": want one of exe, pie, default`}},
		{"pgo profile outside the module", head + "    flags: [-pgo=/etc/passwd, -pgo=../../x.pgo]\n", []string{`4:13: binaries[0].flags[0]: flag "-pgo=/etc/passwd": want auto, off or a profile's path inside the module`, `4:31: binaries[0].flags[1]: flag "-pgo=../../x.pgo"`}},
		{"mod mode", head + "    flags: [-mod=anything]\n", []string{`flag "-mod=anything": want one of mod, readonly, vendor`}},
		{"p not a number", head + "    flags: [-p=0]\n", []string{`flag "-p=0": want a number of builds to run at once`}},
		{"goflags values checked too", head + "goflags: -buildmode=c-shared\n", []string{`goflags: flag "-buildmode=c-shared": want one of exe, pie, default`}},
		{"trimpath not bool", head + "    trimpath: maybe\n", []string{`4:15: binaries[0].trimpath must be true or false, not "maybe"`}},
		{"cgo on static base", head + "    cgo: true\n", []string{`4:10: binaries[0].cgo needs a C library at run time`}},
		{"binary platform", head + "    platforms: [linux/amd65]\n", []string{`4:17: binaries[0].platforms[0]: "linux/amd65": architecture "amd65" is not supported by Go`}},
		{"binary env template", head + "    env: {X: \"{{.Commit\"}\n", []string{"4:14: binaries[0].env[X]: invalid template"}},
		{"spec env template unknown", head + "env: {X: \"{{.Tag}}\"}\n", []string{"4:10: env[X]: invalid template", "known fields"}},
		{"label template", head + "image:\n  labels: {a: \"{{.Nope}}\"}\n", []string{"5:15: image.labels[a]: invalid template"}},
		{"annotation template", head + "image:\n  annotations: {a: \"{{\"}\n", []string{"5:20: image.annotations[a]: invalid template"}},
		{"bases bad platform", head + "image:\n  bases: {\"linux/\": scratch}\n", []string{`5:11: image.bases: "linux/" is not a platform`}},
		{"bases bad ref", head + "image:\n  bases: {linux/arm64: \"A B\"}\n", []string{`5:24: image.bases[linux/arm64]: "A B" is neither`}},
		{"relative volume", head + "image:\n  volumes: [data]\n", []string{`5:13: image.volumes[0] "data" must be an absolute path`}},
		{"bad stopsignal", head + "image:\n  stopsignal: term\n", []string{`5:15: image.stopsignal "term" is not a signal`}},
		{"delve not a version", head + "debug:\n  delve: latest\n", []string{`5:10: debug.delve "latest" is not a version of github.com/go-delve/delve; write one such as "v1.27.2"`}},
		{"delve not canonical", head + "debug:\n  delve: v1.27\n", []string{`5:10: debug.delve "v1.27" is not a version`}},
		{"debug listen without port", head + "debug:\n  listen: localhost\n", []string{`5:11: debug.listen "localhost": address localhost: missing port in address`}},
		{"debug listen port out of range", head + "debug:\n  listen: \":70000\"\n", []string{`5:11: debug.listen ":70000": port "70000" is not a number from 1 to 65535`}},
		{"zoneinfotree without tzdata", head + "image:\n  tzdata: false\n  zoneinfotree: true\n", []string{`6:17: image.zoneinfotree unpacks the time zone database that tzdata: false leaves out`}},
		{"healthcheck without command", head + "image:\n  healthcheck: {interval: 5s}\n", []string{"5:16: image.healthcheck.command is missing"}},
		{"healthcheck shell", head + "image:\n  healthcheck: {command: [CMD-SHELL, curl x]}\n", []string{"5:26: image.healthcheck.command runs a shell"}},
		{"healthcheck duration", head + "image:\n  healthcheck: {command: [/x], interval: often}\n", []string{`5:42: image.healthcheck.interval "often" is not a duration`}},
		{"healthcheck unknown field", head + "image:\n  healthcheck: {cmd: [/x]}\n", []string{`5:17: unknown field "cmd" in image.healthcheck`}},
		{"file src outside", head + "image:\n  files: [{src: ../secret, dst: /x}]\n", []string{`5:17: image.files[0].src "../secret" must be a path inside the build context`}},
		{"file dst relative", head + "image:\n  files: [{src: a, dst: x}]\n", []string{`5:25: image.files[0].dst "x" must be an absolute path`}},
		{"file owner name", head + "image:\n  files: [{src: a, dst: /x, owner: www}]\n", []string{`5:36: image.files[0].owner: "www" is not a numeric uid`}},
		{"file mode", head + "image:\n  files: [{src: a, dst: /x, mode: \"999\"}]\n", []string{`5:35: image.files[0].mode: "999" is not an octal file mode`}},
		{"cacerts not bool", head + "image:\n  cacerts: yes please\n", []string{"5:12: image.cacerts must be true or false"}},
		{"test flag refused", head + "test:\n  flags: [-exec=x]\n", []string{`5:11: test.flags[0]: flag "-exec=x" is not allowed`}},
		{"test race without cgo", head + "test:\n  flags: [-race]\n", []string{"5:11: test.flags[0]: -race needs cgo"}},
		{"test package outside", head + "test:\n  packages: [../x/...]\n", []string{`5:14: test.packages[0] "../x/..." must be a package path inside the module`}},
		{"test unknown field", head + "test:\n  package: [./...]\n", []string{`5:3: unknown field "package" in test; did you mean "packages"?`}},
		{"args template is fine but unknown root", head + "    ldflags: [\"{{.Args}}{{.args.X}}\"]\n", []string{"4:15: binaries[0].ldflags[0]: invalid template"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("gobuild.yaml", []byte(tc.spec))
			if err == nil {
				t.Fatal("no error")
			}
			errs := Errors(err)
			if len(errs) == 0 {
				t.Fatalf("error %q has no position", err)
			}
			for _, want := range tc.want {
				if !matchesOne(errs, want) {
					t.Errorf("no error matches %q; got:\n%v", want, err)
				}
			}
			for _, e := range errs {
				if e.Filename != "gobuild.yaml" {
					t.Errorf("error names %q", e.Filename)
				}
			}
		})
	}
}

// matchesOne reports whether an error has the "line:col: fragment" of want.
func matchesOne(errs []*Error, want string) bool {
	for _, e := range errs {
		got := e.Error()
		loc := strings.TrimPrefix(got, "gobuild.yaml")
		if !strings.HasPrefix(want, "0:0:") && !strings.Contains(want, ":") {
			if strings.Contains(got, want) {
				return true
			}
			continue
		}
		var line, col int
		var frag string
		if n, _ := sscanLoc(want, &line, &col, &frag); n != 3 {
			if strings.Contains(got, want) {
				return true
			}
			continue
		}
		if e.Pos.Line != line || (col != 0 && e.Pos.Column != col) {
			continue
		}
		if strings.Contains(loc, frag) {
			return true
		}
	}
	return false
}

func sscanLoc(s string, line, col *int, frag *string) (int, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return 0, errors.New("no location")
	}
	var err error
	if *line, err = atoi(parts[0]); err != nil {
		return 0, err
	}
	if *col, err = atoi(parts[1]); err != nil {
		return 1, err
	}
	*frag = strings.TrimSpace(parts[2])
	return 3, nil
}

func atoi(s string) (int, error) {
	n := 0
	if s == "" {
		return 0, errors.New("empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

func TestGoVersion(t *testing.T) {
	cases := []struct{ mod, want, wantErr string }{
		{"module x\n\ngo 1.26\n", "1.26", ""},
		{"module x\n\ngo 1.25.3\n\ntoolchain go1.26.8\n", "1.26.8", ""},
		{"module x\n", "", "has no go directive"},
		{"module x\n\ngo banana\n", "", "go.mod:3"},
	}
	for _, tc := range cases {
		got, err := GoVersion("go.mod", []byte(tc.mod))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.mod, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.mod, got, err, tc.want)
		}
	}
}
