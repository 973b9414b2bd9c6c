package llb

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gobuildkit/gobuild/spec"
)

// quoteLdflags renders the ldflags of the selected binaries of s into
// rendered argument by argument (spec.RenderArgs) and writes each entry
// back quoted the way go splits -ldflags, so that a value with a space
// stays one argument and a value cannot add flags. An argument go cannot
// quote is an error at its entry; every one is reported.
func quoteLdflags(s, rendered *spec.Spec, data spec.TemplateData, selected []int) error {
	var errs []error
	for _, i := range selected {
		for j, text := range s.Binaries[i].Ldflags {
			args, err := spec.RenderArgs(text, data)
			if err == nil {
				rendered.Binaries[i].Ldflags[j], err = joinQuoted(args)
			}
			if err != nil {
				errs = append(errs, s.ErrorAt([]any{"binaries", i, "ldflags", j}, "binaries[%d].ldflags[%d]: %v", i, j, err))
			}
		}
	}
	return errors.Join(errs...)
}

// joinQuoted joins args into one flag value that the go command splits
// back into the same args (cmd/internal/quoted: fields split at spaces,
// a field may be wrapped in single or double quotes, with no escapes).
// An argument holding both quote characters cannot be written so.
func joinQuoted(args []string) (string, error) {
	quoted := make([]string, len(args))
	for i, a := range args {
		switch {
		case a != "" && !strings.ContainsAny(a, " \t\n\r'\""):
			quoted[i] = a
		case !strings.Contains(a, "'"):
			quoted[i] = "'" + a + "'"
		case !strings.Contains(a, `"`):
			quoted[i] = `"` + a + `"`
		default:
			return "", fmt.Errorf("argument %q holds both ' and \", which go cannot quote in one flag value; drop one kind of quote from the value", a)
		}
	}
	return strings.Join(quoted, " "), nil
}
