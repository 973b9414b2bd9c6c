package llb

import (
	"slices"
	"testing"
)

func TestOutsideImports(t *testing.T) {
	files := map[string][]GoFile{
		"cmd/server": {
			{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"example.com/x/internal/store\"\n\tuuid \"github.com/google/uuid\"\n\t\"C\"\n)\n")},
			{Name: "main_windows.go", Data: []byte("package main\n\nimport \"golang.org/x/sys/windows\"\n")},
			{Name: "debug.go", Data: []byte("//go:build debug\n\npackage main\n\nimport \"net/http/pprof\"\n")},
			{Name: "main_test.go", Data: []byte("package main\n\nimport \"testing\"\n")},
			{Name: "broken.go", Data: []byte("package main\n\nimport \"os\n")},
		},
		"internal/store": {
			{Name: "store.go", Data: []byte("package store\n\nimport (\n\t\"database/sql\"\n\t\"example.com/x\"\n)\n")},
		},
		".": {
			{Name: "x.go", Data: []byte("package x\n\nimport \"errors\"\n")},
		},
		"cmd/tool": {
			{Name: "tool.go", Data: []byte("package main\n\nimport \"encoding/json\"\n")},
		},
		"sub/cmd/svc": {
			{Name: "svc.go", Data: []byte("package main\n\nimport (\n\t\"example.com/sub/lib\"\n\t\"strings\"\n)\n")},
		},
		"sub/lib": {
			{Name: "lib.go", Data: []byte("package lib\n\nimport \"bytes\"\n")},
		},
	}
	im := ReadImports(files)
	for _, tc := range []struct {
		name         string
		module, dir  string
		patterns     []string
		goos, goarch string
		tags         []string
		want         []string
	}{
		{"through the module's packages, cgo and test files left out", "example.com/x", ".", []string{"./cmd/server"}, "linux", "amd64", nil,
			[]string{"database/sql", "errors", "fmt", "github.com/google/uuid"}},
		{"a file for the target's GOOS", "example.com/x", ".", []string{"./cmd/server"}, "windows", "amd64", nil,
			[]string{"database/sql", "errors", "fmt", "github.com/google/uuid", "golang.org/x/sys/windows"}},
		{"a file behind a build tag", "example.com/x", ".", []string{"./cmd/server"}, "linux", "arm64", []string{"debug"},
			[]string{"database/sql", "errors", "fmt", "github.com/google/uuid", "net/http/pprof"}},
		{"two binaries", "example.com/x", ".", []string{"./cmd/server", "./cmd/tool"}, "linux", "amd64", nil,
			[]string{"database/sql", "encoding/json", "errors", "fmt", "github.com/google/uuid"}},
		{"a pattern", "example.com/x", ".", []string{"./cmd/..."}, "linux", "amd64", nil,
			[]string{"database/sql", "encoding/json", "errors", "fmt", "github.com/google/uuid"}},
		{"a module in a subdirectory", "example.com/sub", "sub", []string{"./cmd/svc"}, "linux", "amd64", nil,
			[]string{"bytes", "strings"}},
		{"a missing package", "example.com/x", ".", []string{"./cmd/absent"}, "linux", "amd64", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := im.outside(tc.module, tc.dir, tc.patterns, tc.goos, tc.goarch, tc.tags, matches)
			if !slices.Equal(got, tc.want) {
				t.Errorf("outside = %q, want %q", got, tc.want)
			}
		})
	}
}

// A file go builds only with a tag the toolchain sets (a release, an
// experiment, an architecture level) counts for the sources: its imports
// would be missing from them otherwise, and go build would fail.
func TestMayMatch(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		strict, may  bool
	}{
		{"no constraint", "", true, true},
		{"another system", "//go:build windows\n", false, false},
		{"a user's tag not given", "//go:build integration\n", false, false},
		{"a given tag", "//go:build netgo\n", true, true},
		{"a newer release", "//go:build go1.99\n", false, true},
		{"before a release", "//go:build !go1.21\n", false, true},
		{"an architecture level", "//go:build amd64.v3\n", false, true},
		{"an experiment off", "//go:build !goexperiment.greenteagc\n", true, true},
		{"an experiment on, another system", "//go:build goexperiment.x && windows\n", false, false},
		{"old syntax", "// +build go1.99\n", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := importingFile{GoFile: GoFile{Name: "a.go", Data: []byte(tc.header + "\npackage a\n")}}
			ctx := buildContext("linux", "amd64", []string{"netgo"})
			if got := matches(ctx, "a", f); got != tc.strict {
				t.Errorf("matches %v, want %v", got, tc.strict)
			}
			if got := mayMatch(ctx, "a", f); got != tc.may {
				t.Errorf("mayMatch %v, want %v", got, tc.may)
			}
		})
	}
}

// A package of a module nested in the main module's directory is that
// module's, as go build takes it from the build list: outside. A package
// of the module whose files the scan did not read (behind a symlinked
// directory) leaves the imports incomplete.
func TestOutsideNestedModulesAndUnreadPackages(t *testing.T) {
	files := map[string][]GoFile{
		"cmd/server":     {{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"example.com/x/api/client\"\n\t\"example.com/x/internal/store\"\n)\n")}},
		"cmd/linked":     {{Name: "main.go", Data: []byte("package main\n\nimport \"example.com/x/internal/linked\"\n")}},
		"api/client":     {{Name: "client.go", Data: []byte("package client\n\nimport \"encoding/xml\"\n")}},
		"internal/store": {{Name: "store.go", Data: []byte("package store\n\nimport \"database/sql\"\n")}},
	}
	for _, tc := range []struct {
		name       string
		moduleDirs []string
		pattern    string
		want       []string
		complete   bool
	}{
		{"api is a module of its own", []string{".", "api"}, "./cmd/server", []string{"database/sql", "example.com/x/api/client"}, true},
		{"api is a directory of the module", []string{"."}, "./cmd/server", []string{"database/sql", "encoding/xml"}, true},
		{"a package not read", []string{"."}, "./cmd/linked", nil, false},
		{"a binary's package not read", []string{"."}, "./cmd/absent", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, complete := ReadImports(files, tc.moduleDirs...).outside("example.com/x", ".", []string{tc.pattern}, "linux", "amd64", nil, mayMatch)
			if !slices.Equal(got, tc.want) || complete != tc.complete {
				t.Errorf("outside = %q, complete %v; want %q, %v", got, complete, tc.want, tc.complete)
			}
		})
	}
}
