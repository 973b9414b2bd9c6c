package spec

import (
	"fmt"
	"strings"
	"text/template/parse"
)

// valueMark brackets each template value in the text RenderArgs renders,
// so that splitting can tell the spec's own text from a value. A NUL can
// never be part of a command-line argument, so no value holds one.
const valueMark = "\x00"

// markFunc is the function RenderArgs appends to every printing action.
const markFunc = "gobuildValue"

// RenderArgs expands a template that is a list of command-line arguments,
// such as one ldflags entry, and returns the arguments. The spec's own
// text splits as the go command splits -ldflags (go help build): at
// spaces, a field wrapped in single or double quotes kept whole. A
// template's value never splits or quotes: it stays inside the argument
// it is in, so VERSION="1.0 beta" is one argument and a value cannot
// inject a flag. A field made of values alone that render empty is no
// argument, so an optional {{arg "X"}} leaves nothing behind.
func RenderArgs(text string, data TemplateData) ([]string, error) {
	budget := newRenderBudget()
	t, err := parseTemplate(text, data.Args, budget)
	if err != nil {
		return nil, err
	}
	markValues(t.Tree.Root)
	t.Funcs(map[string]any{markFunc: func(v any) (string, error) {
		s := fmt.Sprint(v)
		if strings.Contains(s, valueMark) {
			return "", fmt.Errorf("value %q holds a NUL byte, which no argument can", s)
		}
		return valueMark + s + valueMark, nil
	}})
	w := cappedWriter{budget: budget}
	if err := t.Execute(&w, data); err != nil {
		return nil, cleanTemplateError(err)
	}
	return splitMarked(w.b.String())
}

// markValues appends markFunc to every action that prints a value, in
// the branches of if, range and with too.
func markValues(list *parse.ListNode) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			if len(n.Pipe.Decl) == 0 { // a declaration prints nothing
				n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{
					NodeType: parse.NodeCommand,
					Args:     []parse.Node{&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Ident: markFunc}},
				})
			}
		case *parse.IfNode:
			markValues(n.List)
			markValues(n.ElseList)
		case *parse.RangeNode:
			markValues(n.List)
			markValues(n.ElseList)
		case *parse.WithNode:
			markValues(n.List)
			markValues(n.ElseList)
		case *parse.ListNode:
			markValues(n)
		}
	}
}

// splitMarked splits rendered text whose values valueMark brackets: the
// text outside values as cmd/internal/quoted.Split does, the values as
// plain characters of the argument they are in.
func splitMarked(s string) ([]string, error) {
	type char struct {
		c     byte
		value bool
	}
	var chars []char
	inValue := false
	for i := 0; i < len(s); i++ {
		if s[i] == valueMark[0] {
			inValue = !inValue
			continue
		}
		chars = append(chars, char{s[i], inValue})
	}
	isSpace := func(c char) bool { return !c.value && strings.IndexByte(" \t\n\r", c.c) >= 0 }
	var args []string
	for len(chars) > 0 {
		for len(chars) > 0 && isSpace(chars[0]) {
			chars = chars[1:]
		}
		if len(chars) == 0 {
			break
		}
		var arg []byte
		if q := chars[0]; !q.value && (q.c == '\'' || q.c == '"') {
			end := 1
			for end < len(chars) && (chars[end].value || chars[end].c != q.c) {
				end++
			}
			if end == len(chars) {
				return nil, fmt.Errorf("unterminated %c string", q.c)
			}
			for _, c := range chars[1:end] {
				arg = append(arg, c.c)
			}
			args = append(args, string(arg)) // quoted: kept even when empty
			chars = chars[end+1:]
			continue
		}
		end := 0
		for end < len(chars) && !isSpace(chars[end]) {
			arg = append(arg, chars[end].c)
			end++
		}
		if len(arg) > 0 {
			args = append(args, string(arg))
		}
		chars = chars[end:]
	}
	return args, nil
}
