package spec

import (
	"strings"
	"testing"
	"time"
)

// within fails the test when f takes longer than limit. f keeps running
// in the background then: the point is to fail, not to wait minutes.
func within(t *testing.T, limit time.Duration, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still running after %v", limit)
	}
	return time.Since(start)
}

// nested wraps inner in n calls of fn.
func nested(fn, inner string, n int) string {
	return strings.Repeat("("+fn+" ", n) + inner + strings.Repeat(")", n)
}

// TestTemplateBombs: a short template cannot keep the frontend busy or
// fill its memory. Each fails fast with an error at its spec line.
func TestTemplateBombs(t *testing.T) {
	doubling := `{{$x := printf "%0200d" 0}}` + strings.Repeat(`{{$x = printf "%s%s" $x $x}}`, 9) + "{{$x}}"
	cases := []struct{ name, template, want string }{
		{"nested range", `{{range 100000}}{{range 100000}}{{end}}{{end}}`, "{{range}} is not allowed"},
		{"range over a big int", `{{range 1000000000}}x{{end}}`, "{{range}} is not allowed"},
		{"range writing much", `{{range 1000}}{{printf "%099999d" 0}}{{end}}`, "{{range}} is not allowed"},
		{"recursive template", `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, "{{define}} is not allowed"},
		{"block", `{{block "a" .}}x{{end}}`, "{{define}} is not allowed"},
		{"printf huge width", `{{printf "%0999999999d" 1}}`, "width"},
		{"printf large width", `{{printf "%0999999d" 1}}`, "width"},
		{"printf width from an argument", `{{printf "%*d" 999999 1}}`, "width"},
		{"printf huge precision", `{{printf "%.999999f" 1.0}}`, "width"},
		{"escaping doubles", `{{` + nested("js", `"\\"`, 24) + `}}`, "64 KiB"},
		{"variables double", doubling, "64 KiB"},
		{"long output", "{{.Version}}" + strings.Repeat("x", 70<<10), "64 KiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := "version: 1\nbinaries:\n  - package: ./cmd/x\n    ldflags: ['" + strings.ReplaceAll(tc.template, "'", "''") + "']\n"
			var err error
			within(t, 10*time.Second, func() { _, err = Parse("gobuild.yaml", []byte(spec)) })
			errs := Errors(err)
			if len(errs) != 1 || errs[0].Pos.Line != 4 || !strings.Contains(errs[0].Msg, tc.want) || !strings.HasPrefix(errs[0].Msg, "binaries[0].ldflags[0]: ") {
				t.Errorf("errors = %.300v\nwant one at line 4 naming the field, with %q", err, tc.want)
			}
		})
	}
}

// TestTemplateBoundsKeepUsefulTemplates: what release templates do still
// works: if, with, variables, printf with a small width, Go's escapers.
func TestTemplateBoundsKeepUsefulTemplates(t *testing.T) {
	data := TemplateData{Version: "v1.2.3", Args: map[string]string{"N": "7"}}
	cases := []struct{ text, want string }{
		{`{{if eq .Version "v1.2.3"}}release{{else}}dev{{end}}`, "release"},
		{`{{with arg "CHANNEL"}}-{{.}}{{end}}`, ""},
		{`{{with .Version}}{{.}}{{end}}`, "v1.2.3"},
		{`{{$v := .Version}}{{$v}}`, "v1.2.3"},
		{`{{printf "%05s|%-3d|%.2f|%[1]q" "ab" 1 2.5}}`, `000ab|1  |2.50|"ab"`},
		{`{{printf "100%%"}}`, "100%"},
		{`{{urlquery "a b"}} {{html "<"}} {{js "'"}} {{print 1 2}}`, `a+b &lt; \' 1 2`},
		{`{{len .Version}} {{slice .Version 1}}`, "6 1.2.3"},
	}
	for _, tc := range cases {
		got, err := Render(tc.text, data)
		if err != nil || got != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.text, got, err, tc.want)
		}
	}
}

// TestTemplateBudget: each value under the cap, the spec's templates
// together still make at most maxRenderBytes, so a long spec of short
// costly templates does not add up to seconds.
func TestTemplateBudget(t *testing.T) {
	costly := `{{$x := printf "%0200d" 0}}` + strings.Repeat(`{{$x = printf "%s%s" $x $x}}`, 8) + strings.Repeat(`{{$x = print $x}}`, 200) + "{{len $x}}"
	spec := "version: 1\nbinaries:\n  - package: ./cmd/x\n    ldflags:\n" + strings.Repeat("      - '"+costly+"'\n", 10)
	var err error
	took := within(t, 10*time.Second, func() { _, err = Parse("gobuild.yaml", []byte(spec)) })
	errs := Errors(err)
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "more than 16 MiB in all") {
		t.Errorf("errors = %.300v\nwant one saying the spec's templates make too much", err)
	}
	t.Logf("%d bytes of spec failed in %v", len(spec), took)
}
