package spec

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// TemplateData is what templates in ldflags, env, labels and annotations
// can use.
type TemplateData struct {
	// Version is the VERSION build-arg, else git describe --tags of the
	// context's history, else "dev".
	Version string
	// Commit is the VCS revision of the context as buildx reports it, else
	// the context's git HEAD.
	Commit string
	// ShortCommit is the first 7 characters of Commit, as goreleaser
	// abbreviates it (git rev-parse --short gives more in repositories
	// with many objects).
	ShortCommit string
	// Date is SOURCE_DATE_EPOCH in RFC 3339, else the commit time, else the
	// Unix epoch: never the wall clock, so builds stay reproducible.
	Date string
	// Args holds every build-arg: {{.Args.NAME}}.
	Args map[string]string
	// Target is the platform being built.
	Target Target
}

// Target is a platform in Go's terms.
type Target struct {
	OS      string
	Arch    string
	Variant string
}

// ShortCommitLen is how many characters of the commit ShortCommit keeps.
const ShortCommitLen = 7

// templateFuncs are the functions release templates need beyond Go's
// built-ins, documented with examples in docs/reference.md. arg is bound
// to the build's arguments when a template is rendered, and what the
// functions make is charged to b.
func templateFuncs(args map[string]string, b *renderBudget) template.FuncMap {
	funcs := b.boundedFuncs()
	maps.Copy(funcs, template.FuncMap{
		// {{.Version | trimPrefix "v"}}: v1.2.3 -> 1.2.3
		"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		// {{.Date | date "2006-01-02"}}: the build date in a Go layout.
		"date": func(layout, rfc3339 string) (string, error) {
			t, err := time.Parse(time.RFC3339, rfc3339)
			if err != nil {
				return "", fmt.Errorf("date wants an RFC 3339 time such as .Date, not %q", rfc3339)
			}
			return b.made(t.Format(layout), nil)
		},
		// {{arg "CHANNEL"}}: an optional build-arg, empty when not given
		// (.Args.NAME is an error when not given).
		"arg": func(name string) string { return args[name] },
		// {{arg "CHANNEL" | default "stable"}}: value, or fallback when empty.
		"default": func(fallback, value string) string { return cmp.Or(value, fallback) },
		"index":   index,
	})
	return funcs
}

// index is Go's index, but a build-arg that is not given is an error, as
// with .Args.NAME (Go's gives ""), so that {{index .Args "NAME"}} is no
// way around the check a typo must meet.
func index(item reflect.Value, keys ...reflect.Value) (reflect.Value, error) {
	v := indirect(item)
	for _, k := range keys {
		k = indirect(k)
		switch v.Kind() {
		case reflect.Map:
			if !k.IsValid() || k.Kind() != reflect.String || v.Type().Key().Kind() != reflect.String {
				return reflect.Value{}, fmt.Errorf("index of .Args takes a build-arg's name, a string")
			}
			e := v.MapIndex(k.Convert(v.Type().Key()))
			if !e.IsValid() {
				return reflect.Value{}, fmt.Errorf("map has no entry for key %q", k.String())
			}
			v = e
		case reflect.String, reflect.Slice, reflect.Array:
			if !k.IsValid() || !k.CanInt() {
				return reflect.Value{}, fmt.Errorf("cannot index %s with %v", v.Type(), k)
			}
			if i := k.Int(); i < 0 || i >= int64(v.Len()) {
				return reflect.Value{}, fmt.Errorf("index out of range: %d", i)
			}
			v = v.Index(int(k.Int()))
		default:
			return reflect.Value{}, fmt.Errorf("cannot index %s", v.Type())
		}
	}
	return v, nil
}

// indirect is what an interface holds.
func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	return v
}

// Render expands one template string. Unknown fields and missing build-args
// are an error, not an empty string: a typo must not ship a binary without
// its version.
func Render(text string, data TemplateData) (string, error) {
	return render(text, data, newRenderBudget())
}

// render is Render charging what it makes to budget, which the walks of a
// whole spec share.
func render(text string, data TemplateData, budget *renderBudget) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := parseTemplate(text, data.Args, budget)
	if err != nil {
		return "", err
	}
	w := cappedWriter{budget: budget}
	if err := t.Execute(&w, data); err != nil {
		return "", cleanTemplateError(err)
	}
	return w.b.String(), nil
}

// parseTemplate parses text with gobuild's functions, and refuses the
// constructs that could make rendering it unbounded (template_bounds.go).
func parseTemplate(text string, args map[string]string, budget *renderBudget) (*template.Template, error) {
	t, err := template.New("").Option("missingkey=error").Funcs(templateFuncs(args, budget)).Parse(text)
	if err == nil {
		err = checkConstructs(t)
	}
	if err != nil {
		return nil, cleanTemplateError(err)
	}
	return t, nil
}

// TemplateArgs lists the build-args a template reads, with {{.Args.NAME}},
// {{index .Args "NAME"}} or {{arg "NAME"}}.
func TemplateArgs(text string) []string {
	var names []string
	add := func(name string) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	walkTemplate(text, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.CommandNode:
			if name, ok := argByFunc(n); ok {
				add(name)
			}
		case *parse.FieldNode:
			if len(n.Ident) >= 2 && n.Ident[0] == "Args" {
				add(n.Ident[1])
			}
		}
	})
	return names
}

// argByFunc is the build-arg {{arg "NAME"}} or {{index .Args "NAME"}}
// reads.
func argByFunc(n *parse.CommandNode) (string, bool) {
	if len(n.Args) < 2 {
		return "", false
	}
	fn, isIdent := n.Args[0].(*parse.IdentifierNode)
	name, isString := n.Args[len(n.Args)-1].(*parse.StringNode)
	if !isIdent || !isString {
		return "", false
	}
	switch {
	case fn.Ident == "arg" && len(n.Args) == 2:
		return name.Text, true
	case fn.Ident == "index" && len(n.Args) == 3:
		m, isField := n.Args[1].(*parse.FieldNode)
		return name.Text, isField && len(m.Ident) == 1 && m.Ident[0] == "Args"
	}
	return "", false
}

// walkTemplate calls visit for every node of text's parse tree, depth
// first; a template that does not parse has none.
func walkTemplate(text string, visit func(parse.Node)) {
	t, err := parseTemplate(text, nil, &renderBudget{})
	if err != nil || t.Tree == nil {
		return
	}
	walkTree(t.Tree.Root, visit)
}

// walkTree calls visit for n and every node under it, depth first.
func walkTree(n parse.Node, visit func(parse.Node)) {
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		visit(n)
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(&n.BranchNode)
		case *parse.RangeNode:
			walk(&n.BranchNode)
		case *parse.WithNode:
			walk(&n.BranchNode)
		case *parse.BranchNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(n)
}

// checkTemplate renders text with sample data, so that mistakes are
// reported at the spec's line before any build starts. The build-args it
// reads are assumed present: they are only known at build time.
func checkTemplate(text string, budget *renderBudget) error {
	args := map[string]string{}
	for _, name := range TemplateArgs(text) {
		args[name] = "x"
	}
	_, err := render(text, TemplateData{Version: "v0.0.0", Commit: "0", Date: "1970-01-01T00:00:00Z", Args: args, Target: Target{OS: "linux", Arch: "amd64"}}, budget)
	return err
}

type templateError struct{ msg string }

func (e *templateError) Error() string { return e.msg }

// cleanTemplateError drops text/template's empty template name and says
// what the user can write instead.
func cleanTemplateError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "template: ")
	msg = strings.TrimPrefix(msg, ":")
	if strings.Contains(msg, "can't evaluate field") {
		msg += "; known fields: .Version, .Commit, .ShortCommit, .Date, .Args.NAME, .Target.OS, .Target.Arch, .Target.Variant"
	}
	if strings.Contains(msg, "map has no entry for key") {
		msg += "; pass it with --build-arg, or read an optional one with {{arg \"NAME\" | default \"VALUE\"}}"
	}
	if strings.Contains(msg, "not defined") {
		msg += "; functions: trimPrefix, trimSuffix, date, arg, default and Go's own (printf, index, ...)"
	}
	return &templateError{msg: "invalid template: " + msg}
}
