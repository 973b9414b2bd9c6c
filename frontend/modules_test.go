package frontend

import (
	"reflect"
	"strings"
	"testing"

	gbllb "github.com/gobuildkit/gobuild/llb"
)

// TestModuleLayout: what the frontend tells llb of a context's module
// files, read from go.mod, go.work and vendor/modules.txt.
func TestModuleLayout(t *testing.T) {
	const vendorTxt = "# example.com/dep v1.0.0\n## explicit; go 1.21\nexample.com/dep\n"
	cases := []struct {
		name  string
		facts moduleFacts
		want  gbllb.ModuleFiles
		err   string
	}{{
		name:  "module alone",
		facts: moduleFacts{dir: ".", goMod: []byte("module example.com/m\n\ngo 1.26\n\nrequire example.com/dep v1.0.0\n")},
		want:  gbllb.ModuleFiles{Requires: []string{"example.com/dep"}},
	}, {
		name:  "replace with directories, in and outside the module",
		facts: moduleFacts{dir: "services/api", goMod: []byte("module example.com/api\n\ngo 1.26\n\nreplace (\n\texample.com/lib => ../../lib\n\texample.com/proto => ../../proto/\n\texample.com/sub => ./sub\n\texample.com/fork => example.com/other v1.2.0\n)\n")},
		want:  gbllb.ModuleFiles{Dirs: []string{"lib", "proto", "services/api/sub"}},
	}, {
		// go reads a replacement only for a module in the build list, so
		// one the context cannot hold is left to go to report if needed.
		name:  "replace leaving the context is left out",
		facts: moduleFacts{dir: "api", goMod: []byte("module example.com/api\n\ngo 1.26\n\nreplace example.com/lib => ../../lib\n\nreplace example.com/in => ../in\n")},
		want:  gbllb.ModuleFiles{Dirs: []string{"in"}},
	}, {
		name:  "absolute replace is left out",
		facts: moduleFacts{dir: ".", goMod: []byte("module example.com/api\n\ngo 1.26\n\nreplace example.com/lib => /home/me/lib\n")},
	}, {
		name:  "vendored",
		facts: moduleFacts{dir: ".", goMod: []byte("module example.com/m\n\ngo 1.21\n"), modulesTxt: map[string][]byte{".": []byte(vendorTxt)}},
		want:  gbllb.ModuleFiles{Vendor: true},
	}, {
		name:  "vendor/ before go 1.14 is not used by default",
		facts: moduleFacts{dir: ".", goMod: []byte("module example.com/m\n\ngo 1.13\n"), modulesTxt: map[string][]byte{".": []byte(vendorTxt)}},
	}, {
		name:  "vendor/ of a parent directory is not the module's",
		facts: moduleFacts{dir: "app", goMod: []byte("module example.com/m\n\ngo 1.26\n"), modulesTxt: map[string][]byte{".": []byte(vendorTxt)}},
	}, {
		name: "workspace members, their replacements and requirements",
		facts: moduleFacts{
			dir:      "app",
			goMod:    []byte("module example.com/app\n\ngo 1.26\n\nrequire (\n\texample.com/lib v0.0.0\n\tgolang.org/x/text v0.20.0\n)\n"),
			work:     "go.work",
			workData: []byte("go 1.26\n\nuse (\n\t./app\n\t./lib\n\t./tools\n)\n\nreplace example.com/tool => ./third_party/tool\n"),
			members: map[string][]byte{
				"app": []byte("module example.com/app\n\ngo 1.26\n"),
				"lib": []byte("module example.com/lib\n\ngo 1.26\n\nrequire example.com/yaml v1.0.0\n\nreplace example.com/proto => ../proto\n"),
				// Not required by app: its requirements are not app's.
				"tools": []byte("module example.com/tools\n\ngo 1.26\n\nrequire example.com/big v1.0.0\n"),
			},
			// A module's own vendor/ is not used in workspace mode.
			modulesTxt: map[string][]byte{"app": []byte(vendorTxt)},
		},
		want: gbllb.ModuleFiles{Workspace: ".", Dirs: []string{"lib", "proto", "third_party/tool", "tools"}, Requires: []string{"example.com/lib", "golang.org/x/text", "example.com/yaml"}},
	}, {
		name: "workspace vendor/",
		facts: moduleFacts{
			dir: "app", goMod: []byte("module example.com/app\n\ngo 1.26\n"),
			work: "go.work", workData: []byte("go 1.22\n\nuse ./app\n"),
			modulesTxt: map[string][]byte{".": []byte("## workspace\n# example.com/dep v1.0.0\n")},
		},
		want: gbllb.ModuleFiles{Vendor: true, Workspace: "."},
	}, {
		name: "workspace member outside the context",
		facts: moduleFacts{
			dir: "app", goMod: []byte("module example.com/app\n\ngo 1.26\n"),
			work: "app/go.work", workData: []byte("go 1.26\n\nuse (\n\t.\n\t../../shared\n)\n"),
		},
		err: "app/go.work:5: use ../../shared: ../../shared is outside the build context",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.facts.layout()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("layout = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestGoAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"1.14": true, "1.13": false, "1.21.3": true, "1.9": false, "1.22rc1": true, "1.13rc1": false, "2.0": true, "": false, "x": false} {
		if got := goAtLeast(v, 14); got != want {
			t.Errorf("goAtLeast(%q, 14) = %v", v, got)
		}
	}
}
