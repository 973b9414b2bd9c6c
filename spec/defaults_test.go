package spec

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const goMod126 = "module example.com/x\n\ngo 1.26\n"

func mustParse(t *testing.T, text string) *Spec {
	t.Helper()
	s, err := Parse("gobuild.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

// TestFillDefaults: one pass gives every field its default, and what the
// spec sets is kept.
func TestFillDefaults(t *testing.T) {
	cases := []struct {
		name  string
		spec  string
		goMod string
		check func(t *testing.T, s *Spec)
	}{
		{"empty fields", "version: 1\nbinaries: [{package: ./cmd/server}]\n", goMod126, func(t *testing.T, s *Spec) {
			b := s.Binaries[0]
			if b.Name != "server" || b.Trimpath == nil || !*b.Trimpath || b.Strip == nil || !*b.Strip {
				t.Errorf("binary = %+v", b)
			}
			img := s.Image
			if img.Base != BaseStatic || img.User != DefaultUser || img.Cacerts == nil || !*img.Cacerts || img.Tzdata == nil || !*img.Tzdata {
				t.Errorf("image = %+v", img)
			}
			if strings.Join(img.Entrypoint, " ") != "/usr/local/bin/server" {
				t.Errorf("entrypoint = %q", img.Entrypoint)
			}
			if s.Module != "." || strings.Join(s.Test.Packages, " ") != "./..." {
				t.Errorf("module = %q, test packages = %q", s.Module, s.Test.Packages)
			}
			if s.Go != "1.26" || s.Builder != "golang:1.26" {
				t.Errorf("go = %q, builder = %q", s.Go, s.Builder)
			}
		}},
		{"set values win", "version: 1\ngo: go1.25.4\nbuilder: mirror.example/go:1\nmodule: ./svc/\nbinaries: [{package: ./cmd/a, name: b, trimpath: false, strip: false}]\nimage: {base: scratch, user: '1000', cacerts: false, tzdata: false, entrypoint: [/x], files: [{src: ./static/, dst: /s}]}\ntest: {packages: [./pkg/...]}\n", goMod126, func(t *testing.T, s *Spec) {
			b := s.Binaries[0]
			if b.Name != "b" || *b.Trimpath || *b.Strip {
				t.Errorf("binary = %+v", b)
			}
			img := s.Image
			if img.Base != BaseScratch || img.User != "1000" || *img.Cacerts || *img.Tzdata || img.Entrypoint[0] != "/x" || img.Files[0].Src != "static" {
				t.Errorf("image = %+v", img)
			}
			if s.Module != "svc" || s.Test.Packages[0] != "./pkg/..." || s.Go != "1.25.4" || s.Builder != "mirror.example/go:1" {
				t.Errorf("module=%q test=%q go=%q builder=%q", s.Module, s.Test.Packages, s.Go, s.Builder)
			}
		}},
		{"toolchain line: its minor line", "version: 1\nbinaries: [{package: ./cmd/a}]\n", "module x\n\ngo 1.24\n\ntoolchain go1.26.8\n", func(t *testing.T, s *Spec) {
			if s.Go != "1.26" || s.Builder != "golang:1.26" {
				t.Errorf("go = %q, builder = %q", s.Go, s.Builder)
			}
		}},
		// go.mod's go line is a minimum: the builder is the newest patch
		// release of its minor line, not an end-of-life 1.23.0.
		{"go line: its minor line", "version: 1\nbinaries: [{package: ./cmd/a}]\n", "module x\n\ngo 1.23.0\n", func(t *testing.T, s *Spec) {
			if s.Go != "1.23" || s.Builder != "golang:1.23" {
				t.Errorf("go = %q, builder = %q", s.Go, s.Builder)
			}
		}},
		{"go line without patch", "version: 1\nbinaries: [{package: ./cmd/a}]\n", "module x\n\ngo 1.21\n", func(t *testing.T, s *Spec) {
			if s.Builder != "golang:1.21" {
				t.Errorf("builder = %q", s.Builder)
			}
		}},
		{"go field pins", "version: 1\ngo: 1.23.4\nbinaries: [{package: ./cmd/a}]\n", "module x\n\ngo 1.23.0\n", func(t *testing.T, s *Spec) {
			if s.Builder != "golang:1.23.4" {
				t.Errorf("builder = %q", s.Builder)
			}
		}},
		// go build names a module root's binary after the module path.
		{"module root named by go.mod", "version: 1\nbinaries: [{package: .}, {package: ./cmd/b}]\n", "module example.com/tool/v2\n\ngo 1.26\n", func(t *testing.T, s *Spec) {
			if s.Binaries[0].Name != "tool" || s.Image.Entrypoint[0] != "/usr/local/bin/tool" {
				t.Errorf("name = %q, entrypoint = %q", s.Binaries[0].Name, s.Image.Entrypoint)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.spec)
			if err := s.FillDefaults([]byte(tc.goMod)); err != nil {
				t.Fatal(err)
			}
			if !s.Filled() {
				t.Error("Filled() = false after FillDefaults")
			}
			tc.check(t, s)
			// A second pass changes nothing.
			before, _ := s.Resolved()
			if err := s.FillDefaults(nil); err != nil {
				t.Fatalf("second pass: %v", err)
			}
			if after, _ := s.Resolved(); string(after) != string(before) {
				t.Errorf("second pass changed the spec:\n%s\nthen\n%s", before, after)
			}
		})
	}
}

// TestFillDefaultsWithoutGoVersion: a go.mod that names no version is an
// error, and every other default is still filled (lint relies on it).
func TestFillDefaultsWithoutGoVersion(t *testing.T) {
	s := mustParse(t, "version: 1\nbinaries: [{package: ./cmd/a}]\n")
	err := s.FillDefaults([]byte("module x\n"))
	if err == nil || !strings.Contains(err.Error(), "has no go directive") {
		t.Fatalf("error = %v", err)
	}
	if s.Filled() || s.Binaries[0].Name != "a" || s.Image.Base != BaseStatic || s.Builder != "" {
		t.Errorf("filled=%v name=%q base=%q builder=%q", s.Filled(), s.Binaries[0].Name, s.Image.Base, s.Builder)
	}
	if _, err := s.Resolved(); err != ErrNotFilled {
		t.Errorf("Resolved on an unfilled spec: %v", err)
	}
}

// TestFillDefaultsNameErrors: a module root's binary without a name needs
// go.mod's module path, and a name so found must not clash.
func TestFillDefaultsNameErrors(t *testing.T) {
	cases := []struct{ spec, goMod, want string }{
		{"version: 1\nbinaries:\n  - package: .\n", "go 1.26\n", "gobuild.yaml:3:5: binaries[0].name is missing; a package at the module root takes go.mod's module path, and go.mod names none"},
		{"version: 1\nbinaries:\n  - package: ./cmd/app\n  - package: .\n", "module example.com/app\n\ngo 1.26\n", `gobuild.yaml:4:5: binaries[0] and binaries[1] are both named "app"`},
	}
	for _, tc := range cases {
		s := mustParse(t, tc.spec)
		if err := s.FillDefaults([]byte(tc.goMod)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.spec, err, tc.want)
		}
	}
}

// TestResolved: --target spec prints the filled spec, switches included,
// and it parses back to the same spec.
func TestResolved(t *testing.T) {
	s := mustParse(t, "version: 1\nbinaries: [{package: ./cmd/a, ldflags: ['-X main.v={{.Version}}']}]\n")
	if err := s.FillDefaults([]byte(goMod126)); err != nil {
		t.Fatal(err)
	}
	out, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go: \"1.26\" # from go.mod's go 1.26; the newest 1.26 release", "trimpath: true", "strip: true", "cacerts: true", "tzdata: true", "base: static", "user: \"65532\"", "builder: golang:1.26", "name: a", "- ./...", "{{.Version}}"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("resolved spec lacks %q:\n%s", want, out)
		}
	}
	again := mustParse(t, string(out))
	if err := again.FillDefaults(nil); err != nil {
		t.Fatal(err)
	}
	if out2, _ := again.Resolved(); withoutComments(out2) != withoutComments(out) {
		t.Errorf("the resolved spec does not resolve to itself:\n%s\nthen\n%s", out, out2)
	}
}

func withoutComments(yamlText []byte) string {
	var b strings.Builder
	for line := range strings.Lines(string(yamlText)) {
		code, _, _ := strings.Cut(line, " #")
		b.WriteString(strings.TrimRight(code, " \n") + "\n")
	}
	return b.String()
}

// TestCheckBuilder: the checks of the builder's Go (as its image says it)
// against go.mod's go line and against the oldest Go that compiles the
// helper.
func TestCheckBuilder(t *testing.T) {
	goMod := func(s *Spec, goMod []byte, builderGo string) error { return s.CheckBuilderGo(goMod, builderGo) }
	helper := func(s *Spec, _ []byte, builderGo string) error {
		return s.CheckBuilderMinimum(builderGo, "1.21", "compiling gobuild's helper")
	}
	cases := []struct {
		check                        func(s *Spec, goMod []byte, builderGo string) error
		spec, goMod, builderGo, want string
	}{
		{goMod, "version: 1\nbuilder: golang:1.26\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.27\n", "1.26.8",
			`gobuild.yaml:2:10: go.mod:3: go 1.27 needs Go 1.27 or newer, and the builder golang:1.26 has Go 1.26.8; set builder: to an image with Go 1.27 or newer (or go: "1.27"), or lower go.mod's go line`},
		{goMod, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.26.9\n", "1.26.8", "go.mod:3: go 1.26.9 needs Go 1.26.9 or newer"},
		{goMod, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.26.8\n", "1.26.8", ""},
		{goMod, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.26\n", "1.27.1", ""},
		{goMod, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.27\n", "", ""}, // an image that does not say
		{goMod, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.27\n", "devel", ""},
		{helper, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.20\n", "1.20.14",
			`gobuild.yaml:1:1: the builder golang:1.20 (from go.mod's go 1.20; the newest 1.20 release) has Go 1.20.14, and compiling gobuild's helper needs Go 1.21 or newer; set go: "1.21" (go.mod's go line is a minimum) or builder: to an image with Go 1.21 or newer`},
		{helper, "version: 1\ngo: \"1.19\"\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.18\n", "1.19.13", "gobuild.yaml:2:5: the builder golang:1.19 (from the spec's go field) has Go 1.19.13"},
		{helper, "version: 1\ngo: \"1.19\"\nbuilder: example.com/go:old\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.18\n", "1.19.13", "gobuild.yaml:3:10: the builder example.com/go:old (from the spec's builder field) has Go 1.19.13"},
		{helper, "version: 1\nbuilder: example.com/go:old\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.18\n", "1.19.13", "gobuild.yaml:2:10: the builder example.com/go:old (from the spec's builder field)"},
		{helper, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.21\n", "1.21.0", ""},
		{helper, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.21\n", "1.21rc2", ""},
		{helper, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.26\n", "1.26.8", ""},
		{helper, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.20\n", "", ""},
		{helper, "version: 1\nbinaries: [{package: ./a}]\n", "module x\n\ngo 1.20\n", "devel", ""},
	}
	for _, tc := range cases {
		s := mustParse(t, tc.spec)
		if err := s.FillDefaults([]byte(tc.goMod)); err != nil {
			t.Fatal(err)
		}
		err := tc.check(s, []byte(tc.goMod), tc.builderGo)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("spec %q, go.mod %q, builder Go %q: error %v, want %q", tc.spec, tc.goMod, tc.builderGo, err, tc.want)
		}
	}
}
