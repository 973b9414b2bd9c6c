package llb

import (
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
)

// goSplit is cmd/internal/quoted.Split, which the go command applies to
// -ldflags: fields at spaces, a field may be wrapped in ' or ", no escapes.
func goSplit(s string) []string {
	var f []string
	for {
		s = strings.TrimLeft(s, " \t\n\r")
		if s == "" {
			return f
		}
		if q := s[0]; q == '\'' || q == '"' {
			end := strings.IndexByte(s[1:], q)
			f, s = append(f, s[1:end+1]), s[end+2:]
			continue
		}
		end := strings.IndexAny(s, " \t\n\r")
		if end < 0 {
			end = len(s)
		}
		f, s = append(f, s[:end]), s[end:]
	}
}

// TestLdflagsQuoting: a template's value stays one argument of the linker
// whatever it holds, while the spec's own spaces and quotes keep go's
// meaning.
func TestLdflagsQuoting(t *testing.T) {
	cases := []struct {
		name, ldflags, version string
		want                   string   // the -ldflags value
		wantArgs               []string // what go splits it into, after -s -w
	}{
		{"plain", "-X main.version={{.Version}}", "v1.2.3", "-s -w -X main.version=v1.2.3", []string{"-X", "main.version=v1.2.3"}},
		{"space", "-X main.version={{.Version}}", "1.0 beta", "-s -w -X 'main.version=1.0 beta'", []string{"-X", "main.version=1.0 beta"}},
		{"injection", "-X main.version={{.Version}}", "v1 -X main.version=INJECTED", "-s -w -X 'main.version=v1 -X main.version=INJECTED'", []string{"-X", "main.version=v1 -X main.version=INJECTED"}},
		{"single quote", "-X main.version={{.Version}}", "it's", `-s -w -X "main.version=it's"`, []string{"-X", "main.version=it's"}},
		{"double quote", "-X main.version={{.Version}}", `say "hi"`, `-s -w -X 'main.version=say "hi"'`, []string{"-X", `main.version=say "hi"`}},
		{"several flags in one entry", "-X main.version={{.Version}} -X main.os={{.Target.OS}}", "1 2", "-s -w -X 'main.version=1 2' -X main.os=linux", []string{"-X", "main.version=1 2", "-X", "main.os=linux"}},
		{"quoted in the spec", "-X 'main.version={{.Version}} ok'", "1 2", "-s -w -X 'main.version=1 2 ok'", []string{"-X", "main.version=1 2 ok"}},
		{"value in a branch", `{{if .Version}}-X 'main.version={{.Version}}'{{end}}`, "1 2", "-s -w -X 'main.version=1 2'", []string{"-X", "main.version=1 2"}},
		{"optional and empty", `-X main.version={{.Version}} {{arg "EXTRA"}}`, "v1", "-s -w -X main.version=v1", []string{"-X", "main.version=v1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			specText := "version: 1\nbinaries:\n  - package: ./cmd/server\n    ldflags: [" + strconvQuote(tc.ldflags) + "]\n"
			steps, _ := convert(t, specText, "linux/amd64", func(o *Options) { o.Version = tc.version })
			args := findStep(t, steps, StepGoBuild("linux/amd64", "./cmd/server")).GetExec().Meta.Args
			i := slices.Index(args, "-ldflags")
			if i < 0 {
				t.Fatalf("no -ldflags in %q", args)
			}
			if args[i+1] != tc.want {
				t.Errorf("-ldflags %q, want %q", args[i+1], tc.want)
			}
			if got := goSplit(args[i+1]); !slices.Equal(got[2:], tc.wantArgs) {
				t.Errorf("go splits it into %q, want -s -w then %q", got, tc.wantArgs)
			}
		})
	}
}

// strconvQuote writes s as a YAML double-quoted scalar.
func strconvQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// TestLdflagsUnquotable: a value holding both quote characters cannot be
// one argument of -ldflags; the build fails at the entry.
func TestLdflagsUnquotable(t *testing.T) {
	s, err := spec.Parse("gobuild.yaml", []byte("version: 1\nbinaries:\n  - package: ./cmd/server\n    ldflags: [\"-X main.version={{.Version}}\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
		t.Fatal(err)
	}
	opt := Options{BuildPlatform: platforms.MustParse("linux/amd64"), TargetPlatform: platforms.MustParse("linux/amd64"), Version: `a'b"c`}
	for name, err := range map[string]error{"Binaries": func() error { _, err := Binaries(s, opt); return err }(), "CheckTemplates": CheckTemplates(s, opt, false)} {
		want := `gobuild.yaml:4:15: binaries[0].ldflags[0]: argument "main.version=a'b\"c" holds both ' and "`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
}

// TestCommandLineBounded: a go command whose arguments and environment
// pass 128 KiB fails at the spec line of the largest value, instead of
// with Linux's "argument list too long" and no line.
func TestCommandLineBounded(t *testing.T) {
	// Each value stays under the 64 KiB a template may render; together
	// they pass the command line's limit.
	big := strings.Repeat("x", 32000)
	const head = "version: 1\nbinaries:\n  - package: ./cmd/server\n"
	const one, two = "'{{.Args.BIG}}'", "'{{.Args.BIG}}{{.Args.BIG}}'"
	cases := []struct {
		name, spec string
		test       bool
		want       string // "" for no error
	}{
		{"under the limit", head + "    ldflags: ['-X a={{.Args.BIG}}', '-X b={{.Args.BIG}}']\n", false, ""},
		{"ldflags", head + "    ldflags: ['-X a={{.Args.BIG}}', '-X b={{.Args.BIG}}{{.Args.BIG}}', '-X c={{.Args.BIG}}', '-X d={{.Args.BIG}}']\n", false,
			"gobuild.yaml:4:37: go build of binaries[0]: its command line and environment come to "},
		{"spec env", "version: 1\nenv:\n  A: " + one + "\n  B: " + two + "\n  C: " + one + "\n  D: " + one + "\nbinaries:\n  - package: ./cmd/server\n", false,
			"gobuild.yaml:4:6: go build of binaries[0]"},
		{"binary env over spec env", "version: 1\nenv:\n  A: " + two + "\nbinaries:\n  - package: ./cmd/server\n    env:\n      A: " + two + "\n      B: " + one + "\n      C: " + one + "\n      D: " + one + "\n", false,
			"gobuild.yaml:7:10: go build of binaries[0]"},
		{"module setting", "version: 1\ngoprivate: " + two + "\nenv:\n  A: " + one + "\n  B: " + one + "\n  C: " + one + "\nbinaries:\n  - package: ./cmd/server\n", false,
			"gobuild.yaml:2:12: go build of binaries[0]"},
		{"test env", head + "test:\n  env:\n    A: " + two + "\n    B: " + one + "\n    C: " + one + "\n    D: " + one + "\n", true,
			"gobuild.yaml:6:8: go test: its command line and environment come to "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := spec.Parse("gobuild.yaml", []byte(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
				t.Fatal(err)
			}
			opt := Options{BuildPlatform: platforms.MustParse("linux/amd64"), TargetPlatform: platforms.MustParse("linux/amd64"), Args: map[string]string{"BIG": big}}
			if tc.test {
				_, err = Test(s, opt)
			} else {
				_, err = Binaries(s, opt)
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "over gobuild's limit of 131072")) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
