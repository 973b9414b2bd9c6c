package llb

import (
	"fmt"
	"slices"
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

// copies returns a file step's copy actions by destination: owner, group
// and mode (or mode string), as "uid:gid mode".
func copies(op *pb.Op) map[string]string {
	out := map[string]string{}
	for _, a := range op.GetFile().Actions {
		cp := a.GetCopy()
		if cp == nil || cp.Dest == "/" {
			continue
		}
		mode := fmt.Sprintf("%04o", cp.Mode)
		if cp.ModeStr != "" {
			mode = cp.ModeStr
		}
		out[cp.Dest] = fmt.Sprintf("%d:%d %s", cp.Owner.GetUser().GetByID(), cp.Owner.GetGroup().GetByID(), mode)
	}
	return out
}

// The directories the user writes to are made with their parents, each
// with exactly its owner and mode; parents are root's 0755 but for the
// base's /tmp and /home/nonroot, which keep theirs.
func TestImageDirs(t *testing.T) {
	cases := []struct {
		name  string
		image string
		want  map[string]string
	}{
		{"workdir and volumes take the user", "  workdir: /var/lib/app\n  volumes: [/data, /tmp/cache]\n", map[string]string{
			"/var": "0:0 0755", "/var/lib": "0:0 0755", "/var/lib/app": "65532:65532 0755",
			"/data": "65532:65532 0755", "/tmp": "0:0 1777", "/tmp/cache": "65532:65532 0755",
		}},
		{"numeric uid:gid user", "  user: '1000:2000'\n  workdir: /app\n", map[string]string{"/app": "1000:2000 0755"}},
		{"a user name leaves them root's", "  user: nonroot\n  workdir: /app\n", map[string]string{"/app": "0:0 0755"}},
		{"dirs with defaults and their own", "  dirs:\n    - {path: /var/cache/app/}\n    - {path: /home/nonroot/.cache, owner: '10:20', mode: '1770'}\n", map[string]string{
			"/var": "0:0 0755", "/var/cache": "0:0 0755", "/var/cache/app": "65532:65532 0755",
			"/home": "0:0 0755", "/home/nonroot": "65532:65532 0700", "/home/nonroot/.cache": "10:20 1770",
		}},
		{"a dirs entry wins over the workdir", "  workdir: /app\n  dirs: [{path: /app, mode: '0700'}]\n", map[string]string{"/app": "65532:65532 0700"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps, res := convert(t, "version: 1\nbinaries: [{package: ./cmd/server}]\nimage:\n"+c.image, "linux/amd64", nil)
			got := copies(findStep(t, steps, StepImageDirs))
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("directories =\n%v\nwant\n%v", got, c.want)
			}
			h := res.Image.History
			if h[len(h)-1].CreatedBy != "gobuild: "+StepImageDirs {
				t.Errorf("last history entry = %q", h[len(h)-1].CreatedBy)
			}
		})
	}
	steps, _ := convert(t, "version: 1\nbinaries: [{package: ./cmd/server}]\n", "linux/amd64", nil)
	if slices.ContainsFunc(steps, func(s step) bool { return s.name == StepImageDirs }) {
		t.Error("an image without directories has a directories layer")
	}
}

// image.files makes the parents of dst root's 0755 itself: only dst and
// what is copied get the owner, and directories can be entered.
func TestFilesParentsAndModes(t *testing.T) {
	steps, _ := convert(t, `version: 1
binaries: [{package: ./cmd/server}]
image:
  files:
    - {src: seed, dst: /var/lib/app, owner: "65532", mode: "0640"}
    - {src: static, dst: /srv/static, mode: "0444"}
    - {src: bin, dst: /opt/tools, mode: "4751"}
`, "linux/amd64", nil)
	got := copies(findStep(t, steps, "copy image.files"))
	want := map[string]string{
		"/var": "0:0 0755", "/var/lib": "0:0 0755", "/srv": "0:0 0755", "/opt": "0:0 0755",
		"/var/lib/app": "65532:65532 u=rwX,g=rX,o=",
		"/srv/static":  "0:0 u=rX,g=rX,o=rX",
		"/opt/tools":   "0:0 u=rwx,g=rx,o=x,u+s",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("files copies =\n%v\nwant\n%v", got, want)
	}
	for _, a := range findStep(t, steps, "copy image.files").GetFile().Actions {
		if cp := a.GetCopy(); cp != nil && cp.CreateDestPath {
			t.Errorf("copy to %s creates its parents with its owner", cp.Dest)
		}
	}
}

// A files entry whose dst the layer has not made yet is copied as dst
// itself, so dst takes the entry's owner and mode; into a directory that
// may exist, only its contents are copied.
func TestDstMayExist(t *testing.T) {
	cases := []struct {
		dst           string
		made, earlier []string
		want          bool
	}{
		{"/srv/static", []string{"/srv"}, nil, false},
		{"/srv/static/", []string{"/srv"}, nil, true},
		{"/srv", []string{"/srv"}, []string{"/srv/static"}, true},
		{"/srv/static", nil, []string{"/srv/static"}, true},
		{"/srv/static/css", nil, []string{"/srv/static/"}, true},
		{"/srv/static2", nil, []string{"/srv/static"}, false},
	}
	for _, c := range cases {
		if got := dstMayExist(c.dst, c.made, c.earlier); got != c.want {
			t.Errorf("dstMayExist(%q, %q, %q) = %v, want %v", c.dst, c.made, c.earlier, got, c.want)
		}
	}
}
