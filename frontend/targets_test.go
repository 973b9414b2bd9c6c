package frontend

import (
	"fmt"
	"slices"
	"testing"
)

// defaultTarget is the target a build without --target gets, as the README
// and the reference docs say.
const defaultTarget = "image"

// targetTableProblems says what is wrong with a target table: a target
// without a name, a description or a handler, a name used twice, or a
// default that is not first.
func targetTableProblems(table []target, defaultName string) []string {
	var problems []string
	seen := map[string]bool{}
	for i, t := range table {
		switch {
		case t.name == "":
			problems = append(problems, fmt.Sprintf("target %d has no name", i))
		case seen[t.name]:
			problems = append(problems, fmt.Sprintf("target %q is listed twice", t.name))
		}
		seen[t.name] = true
		if t.description == "" {
			problems = append(problems, fmt.Sprintf("target %q has no description", t.name))
		}
		if t.build == nil {
			problems = append(problems, fmt.Sprintf("target %q has no handler", t.name))
		}
	}
	if len(table) == 0 || table[0].name != defaultName {
		problems = append(problems, fmt.Sprintf("the default target %q is not first", defaultName))
	}
	return problems
}

func TestTargetTable(t *testing.T) {
	for _, p := range targetTableProblems(targetTable, defaultTarget) {
		t.Error(p)
	}
}

// TestTargetTableProblems: the check above finds each kind of mistake.
func TestTargetTableProblems(t *testing.T) {
	build := targetTable[0].build
	cases := []struct {
		name  string
		table []target
		want  []string
	}{
		{"no handler", []target{{name: "image", description: "i", build: build}, {name: "sbom", description: "s", build: nil}}, []string{`target "sbom" has no handler`}},
		{"twice", []target{{name: "image", description: "i", build: build}, {name: "vet", description: "v", build: build}, {name: "vet", description: "v2", build: build}}, []string{`target "vet" is listed twice`}},
		{"default second", []target{{name: "vet", description: "v", build: build}, {name: "image", description: "i", build: build}}, []string{`the default target "image" is not first`}},
		{"empty", nil, []string{`the default target "image" is not first`}},
		{"no name or description", []target{{name: "image", description: "i", build: build}, {name: "", description: "", build: build}}, []string{"target 1 has no name", `target "" has no description`}},
	}
	for _, tc := range cases {
		if got := targetTableProblems(tc.table, "image"); !slices.Equal(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLookupTarget(t *testing.T) {
	if tg, err := lookupTarget(""); err != nil || tg.name != defaultTarget {
		t.Errorf("no --target: %q, %v; want %q", tg.name, err, defaultTarget)
	}
	for _, want := range targetTable {
		if tg, err := lookupTarget(want.name); err != nil || tg.name != want.name || tg.description != want.description {
			t.Errorf("--target %s: %q, %v", want.name, tg.name, err)
		}
	}
	_, err := lookupTarget("imgae")
	want := `unknown target "imgae"; valid targets: image, debug, binaries, test, vet, vuln, spec`
	if err == nil || err.Error() != want {
		t.Errorf("unknown target: %v, want %s", err, want)
	}
}
