package llb

import (
	"errors"
	"fmt"
	"maps"
	"slices"
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

// maxCommandLine bounds what one go command's arguments and environment
// add up to. Linux refuses to run a command with a single string over
// 128 KiB (MAX_ARG_STRLEN) with "argument list too long", which names no
// spec line; holding the whole below that fails first, at the spec line
// of the value that grew it.
const maxCommandLine = 128 << 10

// sizedValue is a value of the spec that a command line carries, and its
// size there.
type sizedValue struct {
	at   []any
	size int
}

// checkCommandLine refuses a command (named by what) whose args and env
// pass maxCommandLine, at the largest of values, or at fallback when the
// spec sets none of them.
func checkCommandLine(s *spec.Spec, what string, args []string, env map[string]string, values []sizedValue, fallback []any) error {
	total := 0
	for _, a := range args {
		total += len(a) + 1 // and its NUL
	}
	for k, v := range env {
		total += len(k) + len(v) + 2 // "=" and NUL
	}
	if total <= maxCommandLine {
		return nil
	}
	at, largest := fallback, 0
	for _, v := range values {
		if v.size > largest {
			at, largest = v.at, v.size
		}
	}
	return s.ErrorAt(at, "%s: its command line and environment come to %d bytes, over gobuild's limit of %d (128 KiB; beyond it Linux may refuse with \"argument list too long\"); this value adds %d of them: shorten it", what, total, maxCommandLine, largest)
}

// envValues are the values of env that the spec sets, each at the first
// of the places (one per map, in order of precedence) that sets it, else,
// for a module setting (GOPROXY...), at its field.
func envValues(s *spec.Spec, env map[string]string, places ...[]any) []sizedValue {
	settings := s.ModuleSettings()
	var values []sizedValue
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if at := envPlace(s, k, settings, places); at != nil {
			values = append(values, sizedValue{at, len(k) + len(env[k]) + 2})
		}
	}
	return values
}

func envPlace(s *spec.Spec, k string, settings map[string]string, places [][]any) []any {
	for _, p := range places {
		if at := append(slices.Clone(p), k); s.Has(at...) {
			return at
		}
	}
	if field := strings.ToLower(k); settings[k] != "" && s.Has(field) {
		return []any{field}
	}
	return nil
}
