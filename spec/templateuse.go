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

// PartReads reports whether a template of part may read one of fields.
// It errs towards yes: a template that passes the whole data on (a bare
// "." or a variable) may read anything.
func (s *Spec) PartReads(part Part, fields ...string) bool {
	found := false
	_ = s.eachTemplate(part, func(_ []any, _, text string) (string, error) {
		walkTemplate(text, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.DotNode:
				found = true
			case *parse.FieldNode:
				found = found || slices.Contains(fields, n.Ident[0])
			case *parse.VariableNode:
				found = found || len(n.Ident) == 1 || slices.Contains(fields, n.Ident[1])
			case *parse.ChainNode:
				found = found || (len(n.Field) > 0 && slices.Contains(fields, n.Field[0]))
			}
		})
		return text, nil
	})
	return found
}
