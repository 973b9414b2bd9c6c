package spec

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Limits on a spec's size, checked before it is decoded into Go values:
// yaml.v3 checks mapping keys for duplicates in time quadratic in the
// mapping's size, and decodes an alias once for each place it appears.
// A real spec is a few kilobytes and a few hundred values.
const (
	// MaxSpecBytes is the largest spec file.
	MaxSpecBytes = 1 << 20
	// maxNodes bounds the values of a spec, with every alias counted as
	// the value it stands for.
	maxNodes = 100_000
	// maxMappingKeys bounds one mapping (env, labels): 1000 keys make a
	// million comparisons in yaml.v3's duplicate check.
	maxMappingKeys = 1000
	// maxErrors is how many problems one error lists: enough to fix a
	// spec by, and short enough for BuildKit to send (a gRPC header
	// carries it).
	maxErrors = 20
)

// joinErrors joins errs as errors.Join does, but lists maxErrors of them
// and then one *Error that says how many more there are.
func joinErrors(filename string, errs []error) error {
	if more := len(errs) - maxErrors; more > 0 {
		problems := "problems"
		if more == 1 {
			problems = "problem"
		}
		errs = append(errs[:maxErrors:maxErrors], &Error{Filename: filename, Msg: fmt.Sprintf("... and %d more %s not shown; fix these first", more, problems)})
	}
	return errors.Join(errs...)
}

// checkFileSize refuses a spec too large to read before anything reads it.
func checkFileSize(filename string, data []byte) error {
	if len(data) > MaxSpecBytes {
		return &Error{Filename: filename, Msg: fmt.Sprintf("the file is %d bytes; a spec is at most 1 MiB (%d bytes)", len(data), MaxSpecBytes)}
	}
	return nil
}

// nodeCounter counts a YAML tree's values, each alias as the value it
// stands for, once per place: what decoding it would walk. It stops
// counting past maxNodes, so that its own work is bounded too.
type nodeCounter struct {
	filename string
	// sizes remembers the count of each anchored value, so that an alias
	// costs one lookup; -1 marks a value being counted (an alias inside it
	// refers to it).
	sizes map[*yaml.Node]int
}

// checkNodes returns one error for the first limit the tree at root
// breaks, nil when it keeps them.
func checkNodes(filename string, root *yaml.Node) error {
	c := &nodeCounter{filename: filename, sizes: map[*yaml.Node]int{}}
	n, err := c.count(root)
	if err != nil {
		return err
	}
	if n > maxNodes {
		return &Error{Filename: filename, Msg: fmt.Sprintf("the spec has over %d values with aliases expanded; a spec holds at most %d", maxNodes, maxNodes)}
	}
	return nil
}

func (c *nodeCounter) count(n *yaml.Node) (int, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if size, seen := c.sizes[n]; seen {
		if size < 0 {
			return 0, &Error{Filename: c.filename, Pos: nodePos(n), Msg: "an alias refers to a value that contains it; a value cannot include itself"}
		}
		return size, nil
	}
	if n.Kind == yaml.MappingNode && len(n.Content)/2 > maxMappingKeys {
		return 0, &Error{Filename: c.filename, Pos: nodePos(n), Msg: fmt.Sprintf("a mapping of %d keys; a mapping in a spec holds at most %d", len(n.Content)/2, maxMappingKeys)}
	}
	if n.Anchor != "" {
		c.sizes[n] = -1
	}
	total := 1
	for _, child := range n.Content {
		size, err := c.count(child)
		if err != nil {
			return 0, err
		}
		// Saturate: past the limit the exact count does not matter.
		if total = min(total+size, maxNodes+1); total > maxNodes {
			break
		}
	}
	if n.Anchor != "" {
		c.sizes[n] = total
	}
	return total, nil
}
