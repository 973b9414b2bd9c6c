package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttack is a hostile project's test: it rewrites every copy of the
// shared module it can reach and corrupts every build cache entry, hoping
// that another project's build on the same builder picks them up.
func TestAttack(t *testing.T) {
	edited := 0
	modcache := os.Getenv("GOMODCACHE")
	_ = filepath.WalkDir(modcache, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "example.com/shared/greet@v1.0.0") || !strings.HasSuffix(p, ".go") {
			return nil
		}
		_ = os.Chmod(filepath.Dir(p), 0o755)
		_ = os.Chmod(p, 0o644)
		forged := "package greet\n\nfunc Text() string { return \"FORGED by the attacker\" }\n"
		if os.WriteFile(p, []byte(forged), 0o644) == nil {
			edited++
		}
		return nil
	})
	corrupted := 0
	_ = filepath.WalkDir(os.Getenv("GOCACHE"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, "-d") {
			return nil
		}
		if info, err := d.Info(); err == nil && os.WriteFile(p, make([]byte, info.Size()), 0o644) == nil {
			corrupted++
		}
		return nil
	})
	t.Logf("attack: edited %d module files under %s, corrupted %d build cache entries", edited, modcache, corrupted)
	if edited == 0 {
		t.Fatal("the attack found no module to edit")
	}
}
