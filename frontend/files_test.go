package frontend

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	fstypes "github.com/tonistiigi/fsutil/types"
)

// TestResolveInContext: a src is followed through symlinks that stay in
// the context and refused, with the link, when one leaves it.
func TestResolveInContext(t *testing.T) {
	link := func(name, target string) *fstypes.Stat {
		return &fstypes.Stat{Path: name, Mode: uint32(os.ModeSymlink | 0o777), Linkname: target}
	}
	tree := map[string]*fstypes.Stat{
		"static":            {Path: "static", Mode: uint32(os.ModeDir | 0o755)},
		"static/index.html": {Path: "index.html", Mode: 0o644},
		"assets":            {Path: "assets", Mode: uint32(os.ModeDir | 0o755)},
		"assets/site":       link("site", "../static"),
		"assets/alias":      link("alias", "site"),
		"assets/abs":        link("abs", "/etc/passwd"),
		"assets/up":         link("up", "../../outside"),
		"assets/dangling":   link("dangling", "nothing"),
		"assets/loop":       link("loop", "loop"),
		"assets/via-alias":  link("via-alias", "alias"),
	}
	stat := func(_ context.Context, names []string) (map[string]*fstypes.Stat, error) {
		found := map[string]*fstypes.Stat{}
		for _, n := range names {
			if st, ok := tree[n]; ok {
				found[n] = st
			}
		}
		return found, nil
	}
	cases := map[string]string{
		"static":                 "",
		"assets/site":            "",
		"assets/via-alias":       "",
		"assets/site/index.html": "", // through a linked directory
		"assets/site/none.html":  "assets/site/none.html links to static/none.html, which is not in the build context",
		"missing":                "missing is not in the build context (is it missing, or excluded by .dockerignore?)",
		"assets/abs":             "assets/abs is a symlink to /etc/passwd, which leaves the build context",
		"assets/up":              "assets/up is a symlink to ../../outside, which leaves the build context",
		"assets/dangling":        "assets/dangling links to assets/nothing, which is not in the build context",
		"assets/loop":            "assets/loop goes through more than 40 symlinks",
	}
	for name, want := range cases {
		err := resolveInContext(context.Background(), stat, name, tree[name])
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
	// A path through linked directories resolves element by element.
	resolved, links, err := resolvePath(context.Background(), stat, "assets/via-alias/index.html")
	if err != nil || resolved != "static/index.html" || !slices.Equal(links, []string{"assets/via-alias", "assets/alias", "assets/site"}) {
		t.Errorf("resolvePath = %q, %q, %v", resolved, links, err)
	}
}
