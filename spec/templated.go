package spec

import (
	"fmt"
	"maps"
	"slices"
)

// A templated field is a spec value that takes a template. eachTemplate is
// the one list of them: validation, --call=outline (TemplateArgRefs) and
// rendering all walk it, so a field cannot be known to one and missed by
// another.

// templateVisit sees one templated value: where it is (a path for Pos and
// ErrorAt), how to name it in a message, and its text. It returns the text
// to keep.
type templateVisit func(path []any, name, text string) (string, error)

// eachTemplate calls visit for every templated value of the parts of the
// spec that include selects (every part when include is nil), in the order
// the spec declares them, map entries by key. visit's return value replaces
// the text, so the same walk reads and renders. It stops at the first
// error.
func (s *Spec) eachTemplate(include func(part []any) bool, visit templateVisit) error {
	in := func(part ...any) bool { return include == nil || include(part) }
	for _, f := range moduleSettingFields {
		if in(f.field) {
			v := s.moduleSetting(f.field)
			r, err := visit([]any{f.field}, f.field, *v)
			if err != nil {
				return err
			}
			*v = r
		}
	}
	if in("env") {
		if err := eachMapTemplate(s.Env, []any{"env"}, visit); err != nil {
			return err
		}
	}
	for i := range s.Binaries {
		if in("binaries", i) {
			if err := s.Binaries[i].eachTemplate(i, visit); err != nil {
				return err
			}
		}
	}
	img := &s.Image
	if in("image") {
		for _, m := range []struct {
			field  string
			values map[string]string
		}{{"env", img.Env}, {"labels", img.Labels}, {"annotations", img.Annotations}} {
			if err := eachMapTemplate(m.values, []any{"image", m.field}, visit); err != nil {
				return err
			}
		}
	}
	if in("test") {
		return eachMapTemplate(s.Test.Env, []any{"test", "env"}, visit)
	}
	return nil
}

func (b *Binary) eachTemplate(i int, visit templateVisit) error {
	for j := range b.Ldflags {
		r, err := visit([]any{"binaries", i, "ldflags", j}, fmt.Sprintf("binaries[%d].ldflags[%d]", i, j), b.Ldflags[j])
		if err != nil {
			return err
		}
		b.Ldflags[j] = r
	}
	return eachMapTemplate(b.Env, []any{"binaries", i, "env"}, visit)
}

func eachMapTemplate(m map[string]string, at []any, visit templateVisit) error {
	for _, k := range sortedKeys(m) {
		r, err := visit(append(slices.Clone(at), k), fmt.Sprintf("%s[%s]", describeAt(at), k), m[k])
		if err != nil {
			return err
		}
		m[k] = r
	}
	return nil
}

// checkTemplates reports every templated value that does not parse or
// names an unknown field, each at its line.
func (s *Spec) checkTemplates() []error {
	var errs []error
	_ = s.eachTemplate(nil, func(path []any, name, text string) (string, error) {
		if err := checkTemplate(text); err != nil {
			errs = append(errs, s.errorAt(s.Pos(path...), "%s: %v", name, err))
		}
		return text, nil
	})
	return errs
}

// ArgRef is a build-arg a template reads, and where.
type ArgRef struct {
	Name string
	Pos  Pos
}

// TemplateArgRefs lists every {{.Args.NAME}} in the spec's templates, in
// file order.
func (s *Spec) TemplateArgRefs() []ArgRef {
	var refs []ArgRef
	_ = s.eachTemplate(nil, func(path []any, _, text string) (string, error) {
		for _, name := range TemplateArgs(text) {
			refs = append(refs, ArgRef{Name: name, Pos: s.Pos(path...)})
		}
		return text, nil
	})
	slices.SortStableFunc(refs, func(a, b ArgRef) int { return a.Pos.Line - b.Pos.Line })
	return refs
}

// Part selects some of the spec's templated values by where they are:
// a step renders only what it uses, so a build-arg that only the test
// target reads is not needed to build the image.
type Part func(part []any) bool

var (
	// PartGo is what every go command reads: the module settings and env.
	PartGo Part = func(part []any) bool {
		return len(part) == 1 && (part[0] == "env" || slices.ContainsFunc(moduleSettingFields, func(f moduleSettingField) bool { return f.field == part[0] }))
	}
	// PartImage is the image's env, labels and annotations.
	PartImage Part = func(part []any) bool { return len(part) == 1 && part[0] == "image" }
	// PartTest is the test target's env.
	PartTest Part = func(part []any) bool { return len(part) == 1 && part[0] == "test" }
)

// PartBinary is binary i's ldflags and env.
func PartBinary(i int) Part {
	return func(part []any) bool { return len(part) == 2 && part[0] == "binaries" && part[1] == i }
}

// Rendered returns a copy of the spec with the templates of the given
// parts expanded with data; the rest is copied as it is. An error names
// the value's line, as a validation error does.
func (s *Spec) Rendered(data TemplateData, parts ...Part) (*Spec, error) {
	r := s.clone()
	include := func(part []any) bool {
		return slices.ContainsFunc(parts, func(p Part) bool { return p(part) })
	}
	err := r.eachTemplate(include, func(path []any, name, text string) (string, error) {
		out, err := Render(text, data)
		if err != nil {
			return "", s.errorAt(s.Pos(path...), "%s: %v", name, err)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// clone copies the spec deeply enough that rendering the copy leaves the
// original's maps and slices alone.
func (s *Spec) clone() *Spec {
	r := *s
	r.Env = maps.Clone(s.Env)
	r.Binaries = slices.Clone(s.Binaries)
	for i := range r.Binaries {
		r.Binaries[i].Ldflags = slices.Clone(s.Binaries[i].Ldflags)
		r.Binaries[i].Env = maps.Clone(s.Binaries[i].Env)
	}
	r.Image.Env = maps.Clone(s.Image.Env)
	r.Image.Labels = maps.Clone(s.Image.Labels)
	r.Image.Annotations = maps.Clone(s.Image.Annotations)
	r.Test.Env = maps.Clone(s.Test.Env)
	return &r
}
