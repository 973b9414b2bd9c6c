package spec

import (
	"strings"
	"testing"
	"time"
)

// A YAML syntax error names the line of the fault, not the line before
// it or the start of the list around it, as yaml.v3 reports them.
func TestSyntaxErrorLine(t *testing.T) {
	const head = "version: 1\nbinaries:\n  - package: ./cmd/a\n"
	cases := []struct {
		name, spec string
		line       int
		problem    string
	}{
		{"unclosed list", head + "    ldflags: [\"-s\"\nimage:\n  user: root\n", 4, "did not find expected ',' or ']'"},
		{"unclosed map", "version: 1\nimage:\n  env: {A: b\nbinaries:\n  - package: ./cmd/a\n", 3, "did not find expected ',' or '}'"},
		{"key out of line in a list item", head + "   name: x\n", 4, "did not find expected '-' indicator"},
		{"unterminated quote", "version: 1\nbinaries:\n  - package: \"./cmd/a\n  - package: ./b\n", 3, "found unexpected end of stream"},
		{"tab indentation", head + "\ttags: [x]\n", 4, "found a tab character that violates indentation"},
		{"colon in a plain value", "version: 1\nbinaries:\n- package: ./cmd/a\n  name: a: b\n", 4, "mapping values are not allowed in this context"},
		{"on the first line", "version: [1\n", 1, "did not find expected ',' or ']'"},
		{"after a long list that closes", "version: 1\nbinaries:\n  - package: ./cmd/a\n    tags: [a,\n      b]\n   name: x\n", 6, "did not find expected '-' indicator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("gobuild.yaml", []byte(tc.spec))
			errs := Errors(err)
			if len(errs) != 1 || errs[0].Pos.Line != tc.line || !strings.Contains(errs[0].Msg, tc.problem) {
				t.Errorf("got %v, want line %d: %s", err, tc.line, tc.problem)
			}
		})
	}
}

// The search for the line stays cheap on the largest spec Parse reads.
func TestSyntaxErrorLineBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nbinaries:\n")
	for b.Len() < MaxSpecBytes-100 {
		b.WriteString("  - package: ./cmd/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n")
	}
	b.WriteString("  - package: [\"./cmd/b\"\n")
	start := time.Now()
	_, err := Parse("gobuild.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "invalid YAML") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 1 MiB spec's syntax error took %v", d)
	}
}
