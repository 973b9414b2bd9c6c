package spec

import (
	"slices"
	"text/template/parse"
)

// TemplateFieldUses lists where the spec's templates read a field of
// TemplateData ("Commit", "Date"), in file order, so that a build can
// tell a value it cannot know apart from one no template needs.
func (s *Spec) TemplateFieldUses(field string) []Pos {
	var uses []Pos
	_ = s.eachTemplate(nil, func(path []any, _, text string) (string, error) {
		if templateReads(text, field) {
			uses = append(uses, s.Pos(path...))
		}
		return text, nil
	})
	slices.SortStableFunc(uses, func(a, b Pos) int { return a.Line - b.Line })
	return uses
}

// templateReads reports whether text reads .field (or $.field).
func templateReads(text, field string) bool {
	found := false
	walkTemplate(text, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.FieldNode:
			found = found || (len(n.Ident) > 0 && n.Ident[0] == field)
		case *parse.VariableNode:
			found = found || (len(n.Ident) > 1 && n.Ident[0] == "$" && n.Ident[1] == field)
		}
	})
	return found
}
