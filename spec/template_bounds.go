package spec

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// A template renders one short value (a version, a label), and the
// frontend renders it for anyone who can send a spec, so rendering is
// bounded: no construct that loops or recurses, no string longer than
// MaxValueLen, and no more than maxRenderBytes made by all the templates
// of a spec together, so that a spec written to be slow is not.

// MaxValueLen is the most a template may render, and the most any function
// in it may return.
const MaxValueLen = 64 << 10

// maxFormatWidth is the largest width or precision printf takes: fmt
// allocates it before the cap could see the result.
const maxFormatWidth = 256

// maxRenderBytes is what rendering a whole spec may make, values and the
// strings functions return together: thousands of real values, a few
// milliseconds of work.
const maxRenderBytes = 16 << 20

var (
	errValueTooLong = fmt.Errorf("renders more than %d KiB; a templated value is at most %d KiB", MaxValueLen>>10, MaxValueLen>>10)
	errRenderBudget = fmt.Errorf("the spec's templates make more than %d MiB in all; a spec's templates render short values", maxRenderBytes>>20)
)

// renderBudget is what is left of maxRenderBytes for one walk of a spec's
// templates.
type renderBudget struct{ left int }

func newRenderBudget() *renderBudget { return &renderBudget{left: maxRenderBytes} }

// take charges n bytes made.
func (b *renderBudget) take(n int) error {
	if n > MaxValueLen {
		return errValueTooLong
	}
	if b.left -= n; b.left < 0 {
		return errRenderBudget
	}
	return nil
}

// spent is errRenderBudget once the budget is spent: a walk stops there.
func (b *renderBudget) spent() error {
	if b.left < 0 {
		return errRenderBudget
	}
	return nil
}

// made charges a function's result.
func (b *renderBudget) made(s string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if err := b.take(len(s)); err != nil {
		return "", err
	}
	return s, nil
}

// checkConstructs refuses what could make a short template run long:
// range loops over anything, including an integer, and templates that
// call templates, recursively.
func checkConstructs(t *template.Template) error {
	for _, d := range t.Templates() {
		if d.Name() != t.Name() {
			return errors.New("{{define}} is not allowed (nor {{block}}): a value's template is one piece of text; write it inline")
		}
	}
	var err error
	walkTree(t.Tree.Root, func(n parse.Node) {
		if err != nil {
			return
		}
		switch n.(type) {
		case *parse.RangeNode:
			err = errors.New("{{range}} is not allowed: a templated value renders once, and a loop could keep the build busy for hours; use if, with and the values gobuild gives")
		case *parse.TemplateNode:
			err = errors.New("{{template}} is not allowed: a value's template is one piece of text; write it inline")
		}
	})
	return err
}

// boundedFuncs replace Go's functions that make strings, which can make
// a long one from a short one (printf's width, the escapers nested in one
// another): each charges its result to b.
func (b *renderBudget) boundedFuncs() template.FuncMap {
	return template.FuncMap{
		"printf":   func(format string, args ...any) (string, error) { return b.made(boundedPrintf(format, args...)) },
		"print":    func(args ...any) (string, error) { return b.made(fmt.Sprint(args...), nil) },
		"println":  func(args ...any) (string, error) { return b.made(fmt.Sprintln(args...), nil) },
		"html":     func(args ...any) (string, error) { return b.made(template.HTMLEscaper(args...), nil) },
		"js":       func(args ...any) (string, error) { return b.made(template.JSEscaper(args...), nil) },
		"urlquery": func(args ...any) (string, error) { return b.made(template.URLQueryEscaper(args...), nil) },
	}
}

// boundedPrintf is fmt.Sprintf without widths and precisions that would
// make it allocate much: fmt takes up to a million.
func boundedPrintf(format string, args ...any) (string, error) {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		// The verb's flags, width, precision and argument index come
		// before its letter.
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[j]) >= 0 {
			j++
		}
		if err := checkWidths(format[i+1 : j]); err != nil {
			return "", err
		}
		i = j
	}
	return fmt.Sprintf(format, args...), nil
}

func checkWidths(spec string) error {
	if strings.Contains(spec, "*") {
		return fmt.Errorf("printf takes no width or precision from an argument (%%*d); write it in the format, at most %d", maxFormatWidth)
	}
	n := 0
	for _, c := range spec + "." {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
			if n > maxFormatWidth {
				return fmt.Errorf("printf width or precision %s is over %d", spec, maxFormatWidth)
			}
			continue
		}
		n = 0
	}
	return nil
}

// cappedWriter takes up to MaxValueLen bytes, charged to budget, and
// fails the render past it.
type cappedWriter struct {
	b      strings.Builder
	budget *renderBudget
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > MaxValueLen {
		return 0, errValueTooLong
	}
	if err := w.budget.take(len(p)); err != nil {
		return 0, err
	}
	return w.b.Write(p)
}
