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
