package integration

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestExampleHello builds the README's example as written, with its own
// platforms list, and runs the native binary.
func TestExampleHello(t *testing.T) {
	res, err := build(context.Background(), "../examples/hello", buildOpts{attrs: map[string]string{
		"build-arg:VERSION": "v0.1.0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	images, err := res.layout.images()
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(mapsKeys(images)); !slices.Equal(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("platforms = %q, want the spec's linux/amd64 and linux/arm64", got)
	}
	hello := writeExecutable(t, images["linux/amd64"].files["/usr/local/bin/hello"])
	if out := runBinary(t, nil, hello, "-version"); !strings.HasPrefix(out, "hello v0.1.0") {
		t.Errorf("hello -version = %q", out)
	}
}
