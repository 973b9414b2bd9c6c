package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestRenderArgs(t *testing.T) {
	data := TemplateData{Version: "1 2", Args: map[string]string{"Q": `'x'`}}
	cases := []struct {
		text string
		want []string
		err  string
	}{
		{"-X main.v={{.Version}}", []string{"-X", "main.v=1 2"}, ""},
		{`"-X" 'a b'`, []string{"-X", "a b"}, ""},
		{"{{.Args.Q}}", []string{"'x'"}, ""},                           // a value's quotes are its own
		{"{{$v := .Version}}-X a={{$v}}", []string{"-X", "a=1 2"}, ""}, // a declaration prints nothing
		{"{{range $i, $e := .Args}}-X {{$i}}={{$e}} {{end}}", nil, "{{range}} is not allowed"},
		{`'' {{arg "NONE"}} x`, []string{"", "x"}, ""},
		{"'open {{.Version}}", nil, "unterminated ' string"},
		{"{{.Nope}}", nil, "Nope"},
	}
	for _, tc := range cases {
		got, err := RenderArgs(tc.text, data)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.text, got, err, tc.want)
		}
	}
}
