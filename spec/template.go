package spec

import (
	"strings"
	"text/template"
)

// TemplateData is what ldflags templates can use.
type TemplateData struct {
	// Version is the VERSION build-arg, "dev" when unset.
	Version string
	// Commit is the VCS revision buildx reports for the context, if any.
	Commit string
	// Target is the platform the binary is built for.
	Target Target
}

// Target is a platform in Go's terms.
type Target struct {
	OS      string
	Arch    string
	Variant string
}

// Render expands one template string. Unknown fields are an error, not an
// empty string: a typo in ldflags must not ship a binary without a version.
func Render(text string, data TemplateData) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkTemplate renders text with sample data, so that mistakes are
// reported at the spec's line before any build starts.
func checkTemplate(text string) error {
	_, err := Render(text, TemplateData{Version: "v0.0.0", Commit: "0", Target: Target{OS: "linux", Arch: "amd64"}})
	if err != nil {
		// text/template prefixes its own name, which is empty here.
		msg := strings.TrimPrefix(err.Error(), "template: ")
		msg = strings.TrimPrefix(msg, ":")
		return &templateError{msg: "invalid template: " + msg}
	}
	return nil
}

type templateError struct{ msg string }

func (e *templateError) Error() string { return e.msg }
