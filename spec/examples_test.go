package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// exampleSpecs are the specs under examples/, by path.
func exampleSpecs(t testing.TB) map[string][]byte {
	paths, err := filepath.Glob("../examples/*/gobuild.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example specs: %v", err)
	}
	specs := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		specs[p] = data
	}
	return specs
}

// TestExamplesParse: every example passes validation.
func TestExamplesParse(t *testing.T) {
	for path, data := range exampleSpecs(t) {
		if _, err := Parse("gobuild.yaml", data); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}
