package llb

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

func TestVuln(t *testing.T) {
	sameTags := "version: 1\ngoproxy: https://goproxy.corp.example,direct\ngoflags: -mod=readonly\nbinaries:\n  - package: ./cmd/a\n  - package: ./cmd/b\n"
	for _, tc := range []struct {
		name, spec, db string
		// runs are each govulncheck's arguments after -show traces.
		runs [][]string
	}{
		{"the public database, binaries grouped by tags", testSpec, "", [][]string{{"-tags", "netgo,osusergo", "./cmd/server"}, {"./cmd/worker"}}},
		{"a mirror, one run", sameTags, "http://127.0.0.1:8080/vulndb", [][]string{{"./cmd/a", "./cmd/b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps := convertTarget(t, tc.spec, Vuln, func(o *Options) { o.VulnDB = tc.db })
			install := findStep(t, steps, StepGovulncheck).GetExec()
			if got := install.Meta.Args; !slices.Equal(got, []string{"go", "install", "golang.org/x/vuln/cmd/govulncheck@" + GovulncheckVersion}) {
				t.Errorf("govulncheck is built by %q", got)
			}
			installEnv := env(install)
			if installEnv["GOFLAGS"] != "" || installEnv["CGO_ENABLED"] != "0" || (strings.Contains(tc.spec, "goproxy:") && installEnv["GOPROXY"] != "https://goproxy.corp.example,direct") {
				t.Errorf("govulncheck's build takes the spec's flags: %v", installEnv)
			}
			for _, id := range cacheMounts(install) {
				if strings.Contains(id, "gobuild-gocache-test-") {
					t.Errorf("the tool's build writes a project cache %s", id)
				}
			}
			db := tc.db
			if db == "" {
				db = DefaultVulnDB
			}
			for _, run := range tc.runs {
				packages := slices.DeleteFunc(slices.Clone(run), func(a string) bool { return !strings.HasPrefix(a, "./") })
				exec := findStep(t, steps, StepVuln(packages...)).GetExec()
				want := append([]string{helperBinary, "report", "/out/" + VulnReport, "--", toolsDir + "/govulncheck", "-db", db, "-show", "traces"}, run...)
				if len(tc.runs) > 1 {
					want[2] = "" // one report per run
				}
				got := slices.Clone(exec.Meta.Args)
				if len(tc.runs) > 1 {
					got[2] = ""
				}
				if !slices.Equal(got, want) {
					t.Errorf("govulncheck runs %q, want %q", exec.Meta.Args, want)
				}
				// It loads the user's packages: their project's cache, a
				// copy of the modules, never a shared cache.
				var shared, project bool
				for _, id := range cacheMounts(exec) {
					shared = shared || strings.HasPrefix(id, "gobuild-gocache-shared") || strings.HasPrefix(id, "gobuild-gomodcache-shared")
					project = project || strings.HasPrefix(id, "gobuild-gocache-test-")
				}
				if shared || !project {
					t.Errorf("govulncheck's caches %v", cacheMounts(exec))
				}
				for _, m := range exec.Mounts {
					if m.Dest == srcDir && !m.Readonly {
						t.Error("govulncheck may write the sources")
					}
					if m.Dest == modCacheDir && m.MountType == pb.MountType_CACHE {
						t.Error("govulncheck mounts a shared module cache")
					}
				}
				if e := env(exec); (strings.Contains(tc.spec, "goproxy:") && e["GOPROXY"] == "") || e["GOFLAGS"] != "-mod=readonly" {
					t.Errorf("govulncheck's env lacks the spec's module settings: %v", e)
				}
			}
		})
	}
}
