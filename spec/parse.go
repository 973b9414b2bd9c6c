package spec

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pos is a position in the spec file. Lines and columns start at 1; zero
// means unknown.
type Pos struct {
	Line   int
	Column int
}

// Error is one problem found in a spec, at a position in its file.
type Error struct {
	Filename string
	Pos      Pos
	Msg      string
}

func (e *Error) Error() string {
	switch {
	case e.Pos.Line == 0:
		return fmt.Sprintf("%s: %s", e.Filename, e.Msg)
	case e.Pos.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.Filename, e.Pos.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

// Errors returns every *Error in err, which may be a joined error.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if u := errors.Unwrap(err); u != nil {
			walk(u)
		}
	}
	walk(err)
	return out
}

// Parse decodes and validates a spec. It reports every problem it finds at
// once, as *Error values joined with errors.Join. It fills no default:
// FillDefaults does, once go.mod is known.
func Parse(filename string, data []byte) (*Spec, error) {
	if err := checkFileSize(filename, data); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(filename, data, err)
	}
	// A document of nothing but "---" or "null" has an empty root,
	// placed past the file's end.
	if doc.Kind == 0 || len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		return nil, &Error{Filename: filename, Msg: "the spec is empty; start with \"version: 1\" and a \"binaries\" list"}
	}
	root := doc.Content[0]
	if err := checkNodes(filename, root); err != nil {
		return nil, err
	}

	p := &parser{filename: filename}
	p.check(root, reflect.TypeFor[Spec](), "")
	shapeErrs := p.errs

	s := &Spec{doc: root, filename: filename}
	// yaml.v3 decodes what fits and reports the rest. When the shape was
	// wrong those reports repeat the walk's; otherwise they are scalars that
	// do not fit their field (a word where a number belongs).
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(s); err != nil && len(shapeErrs) == 0 {
		return nil, decodeError(filename, err)
	}
	// Semantic checks run even on a misshapen spec, so that every mistake
	// is reported at once; a check about a line already reported would
	// only restate it.
	errs := shapeErrs
	reported := map[int]bool{}
	for _, e := range Errors(errors.Join(shapeErrs...)) {
		reported[e.Pos.Line] = true
	}
	for _, e := range Errors(s.validate()) {
		if !reported[e.Pos.Line] {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(filename, errs)
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeError turns each line of a *yaml.TypeError into an *Error.
func decodeError(filename string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(filename, nil, err)
	}
	var errs []error
	for _, e := range te.Errors {
		if m := yamlLine.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			errs = append(errs, &Error{Filename: filename, Pos: Pos{Line: line}, Msg: m[2]})
		} else {
			errs = append(errs, &Error{Filename: filename, Msg: e})
		}
	}
	return joinErrors(filename, errs)
}

// parser checks the shape of a YAML tree against the Go types before
// decoding: yaml.v3 stops at the first unknown field and knows no columns,
// while users deserve every mistake at once, each at its place.
type parser struct {
	filename string
	errs     []error
	// visits bounds the walk: aliases can make a small document expand
	// exponentially ("billion laughs").
	visits int
}

const maxVisits = 100_000

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &Error{Filename: p.filename, Pos: nodePos(n), Msg: fmt.Sprintf(format, args...)})
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

func (p *parser) check(n *yaml.Node, t reflect.Type, path string) {
	p.visits++
	if p.visits == maxVisits {
		p.errorf(n, "the spec is too large or expands too many aliases")
	}
	if p.visits >= maxVisits {
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the default
	}
	switch t.Kind() {
	case reflect.Pointer:
		p.check(n, t.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.errorf(n, "%s must be a mapping of fields, not %s", describePath(path), describeNode(n))
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if seen[key.Value] {
				p.errorf(key, "%s is set twice", describePath(joinPath(path, key.Value)))
				continue
			}
			seen[key.Value] = true
			f, ok := fields[key.Value]
			if !ok {
				p.errorf(key, "unknown field %q in %s%s", key.Value, describePath(path), suggest(key.Value, fields))
				continue
			}
			p.check(val, f.Type, joinPath(path, key.Value))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.errorf(n, "%s must be a list, not %s", describePath(path), describeNode(n))
			return
		}
		for i, item := range n.Content {
			p.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.errorf(n, "%s must be a mapping, not %s", describePath(path), describeNode(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Kind != yaml.ScalarNode {
				p.errorf(key, "keys of %s must be strings", describePath(path))
				continue
			}
			p.check(val, t.Elem(), joinPath(path, key.Value))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			p.errorf(n, "%s must be a string, not %s", describePath(path), describeNode(n))
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			p.errorf(n, "%s must be a whole number, not %s", describePath(path), describeNode(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			p.errorf(n, "%s must be true or false, not %s", describePath(path), describeNode(n))
		}
	}
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fields[name] = f
	}
	return fields
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describePath(path string) string {
	if path == "" {
		return "the spec"
	}
	return path
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return n.Value
	}
	return strconv.Quote(n.Value)
}

// suggest names the closest known field, or lists them all when none is
// close, so that a typo is fixed without opening the docs.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	for _, name := range names {
		if d := editDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return "; valid fields: " + strings.Join(names, ", ")
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Pos returns the position of the value at path, given as field names and
// list indexes ("binaries", 0, "package"). It falls back to the nearest
// enclosing value that exists, so an error about a missing field points at
// its parent.
func (s *Spec) Pos(path ...any) Pos {
	pos, _ := s.find(path)
	return pos
}

// KeyPos is like Pos but, when the path ends in a field name, returns the
// position of the key rather than its value: for errors about the name.
func (s *Spec) KeyPos(path ...any) Pos {
	_, key := s.find(path)
	return key
}

// Has reports whether the spec file itself sets the value at path (a
// default does not count).
func (s *Spec) Has(path ...any) bool {
	n, _ := s.lookup(path)
	return n != nil
}

func (s *Spec) find(path []any) (value, key Pos) {
	n, best := s.lookup(path)
	if n == nil {
		return best, best
	}
	return nodePos(n), best
}

// lookup returns the node at path, nil when the spec does not set it, and
// the position of the deepest key found on the way.
func (s *Spec) lookup(path []any) (*yaml.Node, Pos) {
	n := s.doc
	if n == nil {
		return nil, Pos{}
	}
	best := nodePos(n)
	for _, el := range path {
		var next *yaml.Node
		switch el := el.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == el {
						next = n.Content[i+1]
						best = nodePos(n.Content[i])
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && el < len(n.Content) {
				next = n.Content[el]
				best = nodePos(next)
			}
		}
		if next == nil {
			return nil, best
		}
		n = next
	}
	return n, best
}

// Filename is the name the spec was parsed from.
func (s *Spec) Filename() string { return s.filename }

// ErrorAt returns an error positioned at the value at path (see Pos), for
// problems found after parsing, such as an image that cannot be resolved.
func (s *Spec) ErrorAt(path []any, format string, args ...any) *Error {
	return s.errorAt(s.Pos(path...), format, args...)
}

func (s *Spec) errorAt(pos Pos, format string, args ...any) *Error {
	return &Error{Filename: s.filename, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
