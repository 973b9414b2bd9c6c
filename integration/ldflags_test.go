package integration

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLdflagsValueIsOneArgument: a version with a space, or one that
// looks like more linker flags, reaches the binary exactly as given: go
// splits -ldflags at spaces, so gobuild quotes every template value.
func TestLdflagsValueIsOneArgument(t *testing.T) {
	dir := copyDir(t, "testdata/stamped")
	main := "package main\n\nimport \"fmt\"\n\nvar version = \"unset\"\n\nfunc main() { fmt.Print(version) }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := "version: 1\nbinaries:\n  - package: .\n    name: stamped\n    ldflags: [\"-X main.version={{.Version}}\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"1.0 beta", "v1 -X main.version=INJECTED"} {
		t.Run(version, func(t *testing.T) {
			_, out := buildAndRun(t, dir, "stamped", map[string]string{"build-arg:VERSION": version})
			if out != version {
				t.Errorf("the binary prints %q, want %q", out, version)
			}
		})
	}
}
