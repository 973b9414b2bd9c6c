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

// eachTemplate calls visit for every templated value of the fields that
// include selects (every field when include is nil). include sees a
// field's path: ["goproxy"], ["env"], ["binaries", i, "ldflags"],
// ["binaries", i, "env"], ["image", "labels"], ... Fields come in a fixed
// order (the module settings by variable name, then as the types declare
// them), map entries by key. A value visit changes is written back, so the
// same walk reads and renders; one it keeps is not touched, so reading
// walks never write. It stops at the first error.
func (s *Spec) eachTemplate(include func(field []any) bool, visit templateVisit) error {
	in := func(field ...any) bool { return include == nil || include(field) }
	for _, f := range moduleSettingFields {
		if in(f.field) {
			v := s.moduleSetting(f.field)
			if err := visitValue([]any{f.field}, f.field, v, visit); err != nil {
				return err
			}
		}
	}
	fields := []struct {
		at     []any
		values map[string]string
	}{{[]any{"env"}, s.Env}}
	for i, b := range s.Binaries {
		if in("binaries", i, "ldflags") {
			for j := range b.Ldflags {
				if err := visitValue([]any{"binaries", i, "ldflags", j}, fmt.Sprintf("binaries[%d].ldflags[%d]", i, j), &b.Ldflags[j], visit); err != nil {
					return err
				}
			}
		}
		fields = append(fields, struct {
			at     []any
			values map[string]string
		}{[]any{"binaries", i, "env"}, b.Env})
	}
	img := &s.Image
	fields = append(fields, []struct {
		at     []any
		values map[string]string
	}{{[]any{"image", "env"}, img.Env}, {[]any{"image", "labels"}, img.Labels}, {[]any{"image", "annotations"}, img.Annotations}, {[]any{"test", "env"}, s.Test.Env}}...)
	for _, f := range fields {
		if in(f.at...) {
			if err := eachMapTemplate(f.values, f.at, visit); err != nil {
				return err
			}
		}
	}
	return nil
}

func visitValue(path []any, name string, v *string, visit templateVisit) error {
	r, err := visit(path, name, *v)
	if err == nil && r != *v {
		*v = r
	}
	return err
}

func eachMapTemplate(m map[string]string, at []any, visit templateVisit) error {
	for _, k := range sortedKeys(m) {
		r, err := visit(append(slices.Clone(at), k), fmt.Sprintf("%s[%s]", describeAt(at), k), m[k])
		if err != nil {
			return err
		}
		if r != m[k] {
			m[k] = r
		}
	}
	return nil
}

// checkTemplates reports every templated value that does not parse or
// names an unknown field, each at its line. The values share one render
// budget; once it is spent, the rest is not rendered.
func (s *Spec) checkTemplates() []error {
	var errs []error
	budget := newRenderBudget()
	_ = s.eachTemplate(nil, func(path []any, name, text string) (string, error) {
		if err := checkTemplate(text, budget); err != nil {
			errs = append(errs, s.errorAt(s.Pos(path...), "%s: %v", name, err))
		}
		return text, budget.spent()
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

// Part selects some of the spec's templated fields: a step renders only
// what it uses, so a build-arg that only the test target reads is not
// needed to build the image.
type Part func(field []any) bool

var (
	// PartGo is what every go command reads: the module settings and env.
	PartGo Part = func(field []any) bool { return len(field) == 1 }
	// PartImage is the image's env, labels and annotations.
	PartImage Part = func(field []any) bool { return field[0] == "image" }
	// PartTest is the test target's env.
	PartTest Part = func(field []any) bool { return field[0] == "test" }
)

// PartBinary is binary i's ldflags and env.
func PartBinary(i int) Part {
	return func(field []any) bool { return field[0] == "binaries" && field[1] == i }
}

// Rendered returns a copy of the spec with the templates of the given
// parts expanded with data; the rest is copied as it is. Every value that
// fails is reported at once, each at its line, as validation errors are.
func (s *Spec) Rendered(data TemplateData, parts ...Part) (*Spec, error) {
	r := s.clone()
	include := func(field []any) bool {
		return slices.ContainsFunc(parts, func(p Part) bool { return p(field) })
	}
	var errs []error
	budget := newRenderBudget()
	_ = r.eachTemplate(include, func(path []any, name, text string) (string, error) {
		out, err := render(text, data, budget)
		if err == nil && path[0] == "goflags" {
			err = checkGoflags(out) // known only now
		}
		if err == nil && fetchesWith(path) {
			err = checkNoCredentials(out)
		}
		switch {
		case err == nil:
			return out, nil
		case len(path) == 1: // a module setting: name the field
			errs = append(errs, s.errorAt(s.Pos(path...), "%s: %v", name, err))
		default:
			errs = append(errs, s.errorAt(s.Pos(path...), "%v", err))
		}
		return text, budget.spent()
	})
	if len(errs) > 0 {
		return nil, joinErrors(s.filename, errs)
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

// ForDebugging is the spec the debug target builds: every binary with
// optimizations and inlining off, its symbols and DWARF kept and its
// source paths left in, so that a debugger steps through the code as
// written and maps its files. Any other gcflags are replaced: a second
// -gcflags would not add to the first.
func (s *Spec) ForDebugging() *Spec {
	r := s.clone()
	off := false
	for i := range r.Binaries {
		b := &r.Binaries[i]
		b.Gcflags = []string{"all=-N -l"}
		b.Strip, b.Trimpath = &off, &off
	}
	return r
}

// fetchesWith reports whether path is goproxy or an env entry (the
// spec's, a binary's or the test target's) that sets a URL go fetches
// with.
func fetchesWith(path []any) bool {
	if path[0] == "goproxy" {
		return true
	}
	if len(path) < 2 || path[len(path)-2] != "env" {
		return false
	}
	key, _ := path[len(path)-1].(string)
	return slices.Contains(credentialedSettings, key)
}
