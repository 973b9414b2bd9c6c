package spec

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// manyKeys is an env mapping of n entries.
func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nbinaries: [{package: ./x}]\nenv:\n")
	for i := range n {
		fmt.Fprintf(&b, "  K%d: v\n", i)
	}
	return b.String()
}

// laughs is the billion laughs: each level an anchored list of ten
// aliases to the one before.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("version: 1\nbinaries: [{package: ./x}]\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "x%d: &x%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*x%d, ", i-1), 10), ", "))
	}
	return b.String()
}

// TestSpecSizeLimits: a spec too big for yaml.v3 to decode quickly (its
// duplicate-key check is quadratic in a mapping's size; aliases expand
// on decode) fails fast with one error, before it is decoded.
func TestSpecSizeLimits(t *testing.T) {
	cases := []struct {
		name, spec, want string
	}{
		{"over 1 MiB", manyKeys(150_000), "gobuild.yaml:0:0: gobuild.yaml: the file is 1838933 bytes; a spec is at most 1 MiB (1048576 bytes)"},
		{"big mapping", manyKeys(70_000), "gobuild.yaml:4:3: a mapping of 70000 keys; a mapping in a spec holds at most 1000"},
		{"many aliases", "version: 1\nbinaries: [{package: ./x}]\nplatforms: [&a linux/amd64, " + strings.Repeat("*a, ", 100_000) + "*a]\n", "values with aliases expanded; a spec holds at most 100000"},
		{"billion laughs", laughs(9), "values with aliases expanded; a spec holds at most 100000"},
		{"many values", "version: 1\nbinaries: [{package: ./x}]\nplatforms: [" + strings.Repeat("a, ", 200_000) + "a]\n", "a spec holds at most 100000"},
		{"alias in itself", "version: 1\nbinaries: [{package: ./x}]\nplatforms: &p [*p]\n", "3:12: an alias refers to a value that contains it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var err error
			took := within(t, 10*time.Second, func() { _, err = Parse("gobuild.yaml", []byte(tc.spec)) })
			runtime.ReadMemStats(&after)
			errs := Errors(err)
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), strings.TrimPrefix(tc.want, "gobuild.yaml:0:0: ")) {
				t.Errorf("errors = %.300v\nwant one with %q", err, tc.want)
			}
			if strings.HasPrefix(tc.want, "gobuild.yaml:0:0") && errs[0].Pos.Line != 0 {
				t.Errorf("error at %v, want the whole file", errs[0].Pos)
			}
			alloc := (after.TotalAlloc - before.TotalAlloc) >> 20
			if alloc > 300 {
				t.Errorf("allocated %d MiB", alloc)
			}
			t.Logf("%d bytes: %v, %d MiB allocated", len(tc.spec), took, alloc)
		})
	}
	// A spec of a reasonable size with many values still parses.
	if _, err := Parse("gobuild.yaml", []byte(manyKeys(1000))); err != nil {
		t.Errorf("1000 env entries: %v", err)
	}
}

// TestErrorCount: a spec with thousands of mistakes reports the first
// ones and how many more, in a message that fits BuildKit's gRPC headers.
func TestErrorCount(t *testing.T) {
	unknown := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "    unknown%d: x\n", i)
		}
		return b.String()
	}
	cases := []struct {
		name, spec string
		want       int
		last       string
	}{
		{"few", "version: 1\nbinaries:\n  - package: ./x\n" + unknown(3), 3, `unknown field "unknown2"`},
		{"exactly the cap", "version: 1\nbinaries:\n  - package: ./x\n" + unknown(20), 20, `unknown field "unknown19"`},
		{"one over", "version: 1\nbinaries:\n  - package: ./x\n" + unknown(21), 21, "... and 1 more problem not shown"},
		{"thousands", "version: 1\nbinaries:\n" + strings.Repeat("  - package: ./x\n"+unknown(500), 80), 21, "... and 40059 more problems not shown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("gobuild.yaml", []byte(tc.spec))
			errs := Errors(err)
			if len(errs) != tc.want || !strings.Contains(errs[len(errs)-1].Error(), tc.last) {
				t.Fatalf("%d errors, the last %v; want %d, the last with %q", len(errs), errs[len(errs)-1], tc.want, tc.last)
			}
			if len(err.Error()) > 4<<10 {
				t.Errorf("the error is %d bytes", len(err.Error()))
			}
		})
	}
}
