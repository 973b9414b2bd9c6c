package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	data := TemplateData{Version: "v1.2.3", Commit: "0123456789abcdef", ShortCommit: "0123456", Date: "2023-11-14T22:13:20Z",
		Args: map[string]string{"CHANNEL": "beta", "EMPTY": ""}, Target: Target{OS: "linux", Arch: "arm", Variant: "v7"}}
	cases := []struct{ text, want, wantErr string }{
		{"plain", "plain", ""},
		{"{{.Version}}-{{.ShortCommit}}", "v1.2.3-0123456", ""},
		{"{{.Version | trimPrefix \"v\"}}", "1.2.3", ""},
		{"{{.Version | trimSuffix \".3\"}}", "v1.2", ""},
		{"{{.Date | date \"2006-01-02\"}}", "2023-11-14", ""},
		{"{{.Date | date \"20060102150405\"}}", "20231114221320", ""},
		{"{{arg \"CHANNEL\"}}", "beta", ""},
		{"{{arg \"MISSING\"}}", "", ""},
		{"{{arg \"MISSING\" | default \"stable\"}}", "stable", ""},
		{"{{arg \"EMPTY\" | default \"stable\"}}", "stable", ""},
		{"{{arg \"CHANNEL\" | default \"stable\"}}", "beta", ""},
		{"{{.Target.Arch}}{{.Target.Variant}}", "armv7", ""},
		{"{{.Args.MISSING}}", "", `map has no entry for key "MISSING"; pass it with --build-arg, or read an optional one with {{arg "NAME" | default "VALUE"}}`},
		{`{{index .Args "CHANNEL"}}`, "beta", ""},
		{`{{index .Args "MISSING"}}`, "", `map has no entry for key "MISSING"; pass it with --build-arg`},
		{`{{index .Args 1}}`, "", "index of .Args takes a build-arg's name"},
		{`{{index .Version 1}} {{index .Version 9}}`, "", "index out of range: 9"},
		{`{{index .Version 1}}`, "49", ""},
		{"{{.Version | date \"2006\"}}", "", `date wants an RFC 3339 time such as .Date, not "v1.2.3"`},
		{"{{.Version | trimprefix \"v\"}}", "", `function "trimprefix" not defined; functions: trimPrefix`},
		{"{{.Tag}}", "", "known fields: .Version"},
	}
	for _, tc := range cases {
		got, err := Render(tc.text, data)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.text, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.text, got, err, tc.want)
		}
	}
}

// TestTemplateArgs: outline lists the build-args a template reads, both
// required (.Args.NAME) and optional (arg "NAME").
func TestTemplateArgs(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"{{.Version}}", nil},
		{"{{.Args.A}} {{.Args.B}} {{.Args.A}}", []string{"A", "B"}},
		{`{{arg "CHANNEL" | default "stable"}}`, []string{"CHANNEL"}},
		{`{{if .Args.X}}{{arg "Y"}}{{end}}`, []string{"X", "Y"}},
		{`{{index .Args "Z"}}`, []string{"Z"}},
		{"{{.Args", nil},
	}
	for _, tc := range cases {
		if got := TemplateArgs(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("TemplateArgs(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestIndexArgsIsChecked: {{index .Args "NAME"}} passes validation, is
// listed as a build-arg the spec reads, and is an error when not given.
func TestIndexArgsIsChecked(t *testing.T) {
	s := mustParse(t, "version: 1\nbinaries:\n  - package: ./x\n    ldflags: ['{{index .Args \"CHANNEL\"}}', '{{index .Version 0 | print}}']\n")
	if refs := s.TemplateArgRefs(); len(refs) != 1 || refs[0].Name != "CHANNEL" || refs[0].Pos.Line != 4 {
		t.Errorf("refs = %+v", refs)
	}
	_, err := s.Rendered(TemplateData{Version: "v1", Args: map[string]string{}}, PartBinary(0))
	if errs := Errors(err); len(errs) != 1 || errs[0].Pos.Line != 4 || !strings.Contains(errs[0].Msg, `map has no entry for key "CHANNEL"`) {
		t.Errorf("missing build-arg: %v", err)
	}
	_, err = Parse("gobuild.yaml", []byte("version: 1\nbinaries:\n  - package: ./x\n    ldflags: ['{{index .Args 1}}']\n"))
	if errs := Errors(err); len(errs) != 1 || errs[0].Pos.Line != 4 || !strings.Contains(errs[0].Msg, "index of .Args takes a build-arg's name") {
		t.Errorf("index .Args 1: %v", err)
	}
}
