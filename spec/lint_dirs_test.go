package spec

import (
	"maps"
	"testing"
)

// TestLintUnwritableDirs: a directory the image makes for its nonroot
// user is flagged at its line when the user cannot write it, and not
// otherwise.
func TestLintUnwritableDirs(t *testing.T) {
	const head = "version: 1\nbinaries: [{package: ./cmd/a}]\nimage:\n"
	cases := []struct {
		name  string
		image string
		want  map[int]bool // lines flagged
	}{
		{"defaults are the user's", "  workdir: /w\n  volumes: [/v]\n  dirs: [{path: /d}]\n", nil},
		{"dirs owned by root", "  dirs:\n    - {path: /d, owner: '0'}\n", map[int]bool{5: true}},
		{"root's but world-writable", "  dirs: [{path: /d, owner: '0', mode: '1777'}]\n", nil},
		{"the user's group may write", "  user: '1000:50'\n  dirs: [{path: /d, owner: '0:50', mode: '0770'}]\n", nil},
		{"the user's but read-only", "  dirs: [{path: /d, mode: '0555'}]\n", map[int]bool{4: true}},
		{"a user name leaves them root's", "  user: app\n  workdir: /w\n  volumes: [/v]\n", map[int]bool{5: true, 6: true}},
		{"a dirs entry for the workdir is reported there", "  workdir: /w\n  dirs:\n    - {path: /w, owner: '1'}\n", map[int]bool{6: true}},
		{"root writes anywhere", "  user: root\n  dirs: [{path: /d, owner: '1', mode: '0700'}]\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, filled := range []bool{false, true} {
				s := mustParse(t, head+tc.image)
				if filled {
					if err := s.FillDefaults([]byte(goMod126)); err != nil {
						t.Fatal(err)
					}
				}
				got := map[int]bool{}
				for _, f := range lintUnwritableDirs(s) {
					got[f.Pos.Line] = true
					if f.Rule != "UnwritableDir" || f.Description == "" || f.Detail == "" {
						t.Errorf("finding %+v", f)
					}
				}
				if !maps.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
					t.Errorf("filled %v: lines flagged = %v, want %v", filled, got, tc.want)
				}
			}
		})
	}
	s := mustParse(t, head+"  dirs: [{path: /d, owner: '0'}]\n")
	found := false
	for _, f := range Lint(s, LintInput{}) {
		found = found || f.Rule == "UnwritableDir"
	}
	if !found {
		t.Error("Lint does not apply UnwritableDir")
	}
}
