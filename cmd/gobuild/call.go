package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

// printCall prints a subrequest's answer as buildx does: its text, or its
// JSON with format=json. check exits 1 when there are warnings.
func printCall(w io.Writer, o *options, metadata map[string][]byte) (int, error) {
	dt, ok := metadata["result.json"]
	if !ok {
		return 0, fmt.Errorf("the frontend did not answer --call %s", o.call)
	}
	code := 0
	if o.call == "check" {
		var res lint.LintResults
		if err := json.Unmarshal(dt, &res); err != nil {
			return 0, fmt.Errorf("--call check: %w", err)
		}
		if len(res.Warnings) > 0 || res.Error != nil {
			code = exitBuildFailed
		}
	}
	if o.json {
		_, err := fmt.Fprintf(w, "%s\n", dt)
		return code, err
	}
	var err error
	switch o.call {
	case "outline":
		err = outline.PrintOutline(dt, w)
	case "targets":
		err = targets.PrintTargets(dt, w)
	case "check":
		err = lint.PrintLintViolations(dt, w, nil)
		if err == nil && code == 0 {
			_, err = fmt.Fprintln(w, "Check complete, no warnings found.")
		}
	default:
		err = errors.New("unknown call " + o.call)
	}
	return code, err
}
