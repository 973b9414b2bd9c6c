package spec

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/containerd/platforms"
)

func TestBaseFor(t *testing.T) {
	s := mustParse(t, `version: 1
binaries: [{package: ./cmd/a}]
image:
  base: gcr.io/distroless/static-debian12
  bases: {linux/arm64/v8: scratch, "linux/arm/v7": static}
`)
	cases := []struct {
		target, base string
		path         []any
	}{
		{"linux/amd64", "gcr.io/distroless/static-debian12", []any{"image", "base"}},
		{"linux/arm64", "scratch", []any{"image", "bases", "linux/arm64/v8"}},
		{"linux/arm64/v8", "scratch", []any{"image", "bases", "linux/arm64/v8"}},
		{"linux/arm", "static", []any{"image", "bases", "linux/arm/v7"}},
		{"linux/arm/v6", "gcr.io/distroless/static-debian12", []any{"image", "base"}},
	}
	for _, tc := range cases {
		target := platforms.MustParse(tc.target)
		if got := s.BaseFor(target); got != tc.base {
			t.Errorf("BaseFor(%s) = %q, want %q", tc.target, got, tc.base)
		}
		if got := s.BasePath(target); fmt.Sprint(got) != fmt.Sprint(tc.path) {
			t.Errorf("BasePath(%s) = %v, want %v", tc.target, got, tc.path)
		}
	}
}

func TestBinaryTargets(t *testing.T) {
	s := mustParse(t, "version: 1\nbinaries:\n  - package: ./cmd/all\n  - package: ./cmd/arm\n    platforms: [linux/arm64, linux/arm/v6]\n")
	cases := []struct {
		target string
		want   []int
	}{
		{"linux/amd64", []int{0}},
		{"linux/arm64/v8", []int{0, 1}},
		{"linux/arm/v6", []int{0, 1}},
		{"linux/arm/v7", []int{0}},
	}
	for _, tc := range cases {
		var got []int
		for i := range s.Binaries {
			if s.BinaryTargets(i, platforms.MustParse(tc.target)) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s builds %v, want %v", tc.target, got, tc.want)
		}
	}
}

func TestGoEnv(t *testing.T) {
	cases := []struct {
		arch, variant string
		want          map[string]string
		bad           bool
	}{
		{"amd64", "", map[string]string{"GOARCH": "amd64"}, false},
		{"amd64", "v3", map[string]string{"GOARCH": "amd64", "GOAMD64": "v3"}, false},
		{"amd64", "v5", nil, true},
		{"arm", "", map[string]string{"GOARCH": "arm", "GOARM": "7"}, false},
		{"arm", "v6", map[string]string{"GOARCH": "arm", "GOARM": "6"}, false},
		{"arm", "v8", nil, true},
		{"arm64", "v8", map[string]string{"GOARCH": "arm64"}, false},
		{"arm64", "v9", map[string]string{"GOARCH": "arm64", "GOARM64": "v9.0"}, false},
		{"arm64", "v8.2", map[string]string{"GOARCH": "arm64", "GOARM64": "v8.2"}, false},
		{"arm64", "v7", nil, true},
		{"riscv64", "", map[string]string{"GOARCH": "riscv64"}, false},
		{"riscv64", "v1", nil, true},
		{"sparc", "", nil, true},
	}
	for _, tc := range cases {
		got, err := GoEnv(tc.arch, tc.variant)
		if (err != nil) != tc.bad || !maps.Equal(got, tc.want) {
			t.Errorf("GoEnv(%q, %q) = %v, %v; want %v, bad=%v", tc.arch, tc.variant, got, err, tc.want, tc.bad)
		}
	}
}
