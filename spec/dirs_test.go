package spec

import (
	"fmt"
	"testing"
)

// TestDirsValidation: every bad image.dirs entry is reported at its line,
// all at once.
func TestDirsValidation(t *testing.T) {
	const head = "version: 1\nbinaries:\n  - package: ./cmd/server\nimage:\n  dirs:\n"
	cases := []struct {
		name string
		dirs string
		want []string
	}{
		{"relative path", "    - {path: var/lib}\n", []string{`6:14: image.dirs[0].path "var/lib" must be an absolute path`}},
		{"missing path", "    - {mode: '0700'}\n", []string{`6:7: image.dirs[0].path "" must be an absolute path`}},
		{"root", "    - {path: /}\n", []string{`6:14: image.dirs[0].path "/" must be an absolute path in the image, other than /`}},
		{"owner name", "    - {path: /a, owner: app}\n", []string{`6:25: image.dirs[0].owner: "app" is not a numeric uid`}},
		{"mode", "    - {path: /a, mode: rwx}\n", []string{`6:24: image.dirs[0].mode: "rwx" is not an octal file mode`}},
		{"unknown field", "    - {path: /a, perm: '0700'}\n", []string{`6:18: unknown field "perm" in image.dirs[0]`}},
		{"all at once", "    - {path: a}\n    - {path: /b, owner: 'x:y', mode: '8'}\n", []string{
			`6:14: image.dirs[0].path`, `7:25: image.dirs[1].owner`, `7:38: image.dirs[1].mode`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("gobuild.yaml", []byte(head+tc.dirs))
			if err == nil {
				t.Fatal("no error")
			}
			errs := Errors(err)
			for _, want := range tc.want {
				if !matchesOne(errs, want) {
					t.Errorf("no error matches %q; got:\n%v", want, err)
				}
			}
		})
	}
}

// TestDirsDefaults: FillDefaults gives dirs the image user's ownership
// (root's for a user name) and 0755, cleans paths, and ImageDirs adds the
// workdir and the volumes, sorted, an explicit entry winning.
func TestDirsDefaults(t *testing.T) {
	cases := []struct {
		name  string
		image string
		dirs  string // Dirs after FillDefaults
		all   string // ImageDirs
	}{
		{"defaults", "  dirs: [{path: /var/lib/app/}]\n", "[{/var/lib/app 65532 0755}]", "[{/var/lib/app 65532 0755}]"},
		{"set values kept", "  dirs: [{path: /a, owner: '1:2', mode: '0700'}]\n", "[{/a 1:2 0700}]", "[{/a 1:2 0700}]"},
		{"uid:gid user", "  user: '1000:1000'\n  dirs: [{path: /a}]\n", "[{/a 1000:1000 0755}]", "[{/a 1000:1000 0755}]"},
		{"user name", "  user: nonroot\n  workdir: /w\n  dirs: [{path: /a}]\n", "[{/a 0:0 0755}]", "[{/a 0:0 0755} {/w 0:0 0755}]"},
		{"workdir and volumes", "  workdir: /srv/\n  volumes: [/data, /cache]\n", "[]", "[{/cache 65532 0755} {/data 65532 0755} {/srv 65532 0755}]"},
		{"dirs entry wins", "  workdir: /srv\n  dirs: [{path: /srv, mode: '0700'}]\n", "[{/srv 65532 0700}]", "[{/srv 65532 0700}]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, "version: 1\nbinaries: [{package: ./cmd/server}]\nimage:\n"+tc.image)
			if err := s.FillDefaults([]byte(goMod126)); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(s.Image.Dirs); got != tc.dirs && !(got == "[]" && tc.dirs == "[]") {
				t.Errorf("dirs = %s, want %s", got, tc.dirs)
			}
			if got := fmt.Sprint(s.ImageDirs()); got != tc.all {
				t.Errorf("ImageDirs = %s, want %s", got, tc.all)
			}
			again := fmt.Sprint(s.Image.Dirs)
			if err := s.FillDefaults([]byte(goMod126)); err != nil || fmt.Sprint(s.Image.Dirs) != again {
				t.Errorf("a second FillDefaults changed dirs to %v (%v)", s.Image.Dirs, err)
			}
		})
	}
}
