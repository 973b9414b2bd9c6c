package spec

import (
	"bytes"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Bounds of the search for a syntax error's line: lines tried, and bytes
// parsed in all, so that a large spec stays cheap to reject.
const (
	syntaxSearchLines = 500
	syntaxSearchBytes = 32 << 20
)

// syntaxError turns yaml.v3's "yaml: line N: msg" into an *Error at the
// line of the fault. yaml.v3 reports the line where the construct around
// the fault starts, and for a parser error counts it from 0: an unclosed
// bracket on line 4 is reported at line 3, a mis-indented key under a list
// at the list's start. The fault is on the first line at which the spec,
// cut there, fails with the same message; that is searched for, within
// bounds, from the reported line on.
func syntaxError(filename string, data []byte, err error) error {
	line, problem := yamlProblem(err)
	if data != nil {
		line = faultLine(data, problem, max(line, 1))
	}
	return &Error{Filename: filename, Pos: Pos{Line: line}, Msg: "invalid YAML: " + problem}
}

// yamlProblem splits yaml.v3's error into its line (0 when it gives none:
// a construct starting on the first line) and its message.
func yamlProblem(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// faultLine is the first line from start at which data, cut after it,
// fails to parse with problem; start when none does within the bounds.
func faultLine(data []byte, problem string, start int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	prefix := 0
	for _, l := range lines[:min(start-1, len(lines))] {
		prefix += len(l)
	}
	parsed := 0
	for n := start; n <= len(lines) && n < start+syntaxSearchLines && parsed < syntaxSearchBytes; n++ {
		prefix += len(lines[n-1])
		parsed += prefix
		var doc yaml.Node
		if err := yaml.Unmarshal(data[:prefix], &doc); err != nil {
			if _, p := yamlProblem(err); p == problem {
				return n
			}
		}
	}
	return start
}
