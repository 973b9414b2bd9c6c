package frontend

import "testing"

func TestOwnSBOM(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts map[string]string
		want bool
	}{
		{"not asked", map[string]string{"build-arg:X": "1"}, false},
		{"buildx --sbom=true", map[string]string{"attest:sbom": ""}, true},
		{"parameters for the default scanner", map[string]string{"attest:sbom": "scan-context=true"}, true},
		{"the build-arg form", map[string]string{"build-arg:BUILDKIT_ATTEST_SBOM": ""}, true},
		{"a generator of the client's", map[string]string{"attest:sbom": "generator=registry.example/scanner:1"}, false},
		{"a quoted generator", map[string]string{"attest:sbom": `"generator=registry.example/scanner:1",x=y`}, false},
		{"disabled", map[string]string{"attest:sbom": "disabled=true"}, false},
		{"provenance only", map[string]string{"attest:provenance": "mode=max"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ownSBOM(tc.opts)
			if err != nil || got != tc.want {
				t.Errorf("ownSBOM(%v) = %v, %v; want %v", tc.opts, got, err, tc.want)
			}
		})
	}
	if _, err := ownSBOM(map[string]string{"attest:sbom": `"unterminated`}); err == nil {
		t.Error("a malformed attest:sbom was accepted")
	}
}
