package spec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzLimit is how long one input may take: the limits make every spec
// fast, and fuzzing's instrumentation slows it by a few times at most.
const fuzzLimit = 5 * time.Second

// specErrors checks the shape callers rely on (spec.Errors, the
// frontend's source mapping): err joins *Error values, each naming the
// file and a line of it or none, at most maxErrors and one summary.
func specErrors(t *testing.T, err error, data []byte) {
	t.Helper()
	var leaves []error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		leaves = append(leaves, err)
	}
	walk(err)
	// YAML breaks lines at \n, \r\n and a lone \r.
	lines := bytes.Count(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n")) + 1
	for _, leaf := range leaves {
		var e *Error
		if !errors.As(leaf, &e) {
			t.Fatalf("%T %q is not an *Error", leaf, leaf)
		}
		if e.Filename != "gobuild.yaml" || e.Pos.Line < 0 || e.Pos.Line > lines || e.Msg == "" {
			t.Fatalf("error %q: file %q, line %d of %d", e, e.Filename, e.Pos.Line, lines)
		}
	}
	if len(leaves) > maxErrors+1 {
		t.Fatalf("%d errors", len(leaves))
	}
}

func FuzzParse(f *testing.F) {
	for _, data := range exampleSpecs(f) {
		f.Add(data)
	}
	f.Add([]byte("version: 1\nbinaries:\n  - package: ./cmd/x\n"))
	f.Add([]byte(everyTemplate))
	f.Add([]byte("version: 1\nbinaries: [{package: ./a, ldflags: ['{{.Version}}']}]\nimage: {ports: [1]}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte(laughs(3)))
	f.Add([]byte("version: 1\nbinaries: [{package: ./a, env: {GOARCH: x}, ldflags: ['{{printf \"%0300d\" 1}}']}]\ngoflags: '{{.Args.F}}'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		s, err := Parse("gobuild.yaml", data)
		if took := time.Since(start); took > fuzzLimit {
			t.Fatalf("Parse took %v", took)
		}
		if err != nil {
			specErrors(t, err, data)
			return
		}
		if len(s.Binaries) == 0 {
			t.Fatal("a spec without binaries was accepted")
		}
		// What parses renders within the bounds, whatever the build-args.
		args := map[string]string{}
		for _, ref := range s.TemplateArgRefs() {
			args[ref.Name] = strings.Repeat("a", 1000)
		}
		data2 := TemplateData{Version: "v1.2.3", Commit: "0123456789", ShortCommit: "0123456", Date: "2024-01-02T03:04:05Z", Args: args, Target: Target{OS: "linux", Arch: "arm", Variant: "v7"}}
		parts := []Part{PartGo, PartImage, PartTest}
		for i := range s.Binaries {
			parts = append(parts, PartBinary(i))
		}
		start = time.Now()
		r, err := s.Rendered(data2, parts...)
		if took := time.Since(start); took > fuzzLimit {
			t.Fatalf("Rendered took %v", took)
		}
		if err != nil {
			specErrors(t, err, data)
			return
		}
		texts := map[string]string{}
		_ = s.eachTemplate(nil, func(_ []any, name, text string) (string, error) {
			texts[name] = text
			return text, nil
		})
		_ = r.eachTemplate(nil, func(_ []any, name, out string) (string, error) {
			if len(out) > MaxValueLen && strings.Contains(texts[name], "{{") {
				t.Fatalf("%s renders %d bytes", name, len(out))
			}
			return out, nil
		})
	})
}

func FuzzTemplate(f *testing.F) {
	for _, text := range []string{
		"{{.Version}}-{{.ShortCommit}}", `{{.Version | trimPrefix "v"}}`, `{{.Date | date "2006-01-02"}}`,
		`{{arg "CHANNEL" | default "stable"}}`, `{{index .Args "A"}}`, `{{if eq .Target.Arch "arm"}}{{.Target.Variant}}{{end}}`,
		`{{with arg "X"}}-{{.}}{{end}}`, `{{printf "%05d" 1}}`, `{{range 10}}x{{end}}`, `{{js (js (js "\\"))}}`,
		`{{$x := printf "%0200d" 0}}{{$x = printf "%s%s" $x $x}}{{$x}}`, `{{define "a"}}{{end}}`,
	} {
		f.Add(text)
	}
	data := TemplateData{Version: "v1.2.3", Commit: "0123456789", ShortCommit: "0123456", Date: "2024-01-02T03:04:05Z",
		Args: map[string]string{"A": "a", "CHANNEL": "beta"}, Target: Target{OS: "linux", Arch: "arm", Variant: "v7"}}
	f.Fuzz(func(t *testing.T, text string) {
		start := time.Now()
		out, err := Render(text, data)
		if took := time.Since(start); took > fuzzLimit {
			t.Fatalf("Render took %v", took)
		}
		switch {
		case err != nil && !strings.HasPrefix(err.Error(), "invalid template: "):
			t.Fatalf("error %q does not say the template is invalid", err)
		case err == nil && len(out) > MaxValueLen && strings.Contains(text, "{{"):
			t.Fatalf("rendered %d bytes", len(out))
		}
		// The walks that read templates take any text.
		_ = TemplateArgs(text)
		_ = templateReads(text, "Commit")
	})
}
