package llb

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestDebug(t *testing.T) {
	noContinue := testSpec + "debug:\n  listen: 127.0.0.1:40000\n  continue: false\n  delve: v1.26.0\n"
	for _, tc := range []struct {
		name, spec, target string
		entrypoint         []string
		port               string
		delveFrom          string // where go install leaves delve
	}{
		{"defaults, native", testSpec, "linux/amd64",
			[]string{DelvePath, "exec", "--headless", "--listen=:2345", "--api-version=2", "--accept-multiclient", "--only-same-user=false", "--continue", "/usr/local/bin/server", "--"},
			"2345/tcp", "/bin/dlv"},
		{"settings, cross-compiled", noContinue, "linux/arm64",
			[]string{DelvePath, "exec", "--headless", "--listen=127.0.0.1:40000", "--api-version=2", "--accept-multiclient", "--only-same-user=false", "/usr/local/bin/server", "--"},
			"40000/tcp", "/bin/linux_arm64/dlv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, opt := testInput(t, tc.spec, tc.target, nil)
			res, err := Debug(context.Background(), s, opt)
			if err != nil {
				t.Fatal(err)
			}
			cfg := res.Image.Config
			if !slices.Equal(cfg.Entrypoint, tc.entrypoint) {
				t.Errorf("entrypoint %q, want %q", cfg.Entrypoint, tc.entrypoint)
			}
			if _, ok := cfg.ExposedPorts[tc.port]; !ok {
				t.Errorf("ports %v lack delve's %s", cfg.ExposedPorts, tc.port)
			}
			if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
				t.Errorf("ports %v lost the image's", cfg.ExposedPorts)
			}
			if cfg.Labels[DebugLabel] != "true" {
				t.Errorf("labels %v lack %s", cfg.Labels, DebugLabel)
			}
			if !slices.Contains(res.Binaries, DelvePath) {
				t.Errorf("binaries %q lack delve", res.Binaries)
			}
			steps := marshalSteps(t, res.State, opt)
			build := findStep(t, steps, StepGoBuild(tc.target, "./cmd/server")).GetExec()
			args := strings.Join(build.Meta.Args, " ")
			if !strings.Contains(args, "-gcflags all=-N -l") || strings.Contains(args, "-trimpath") || strings.Contains(args, "-s -w") {
				t.Errorf("debug go build %q: want -gcflags all=-N -l, no -trimpath, no -s -w", args)
			}
			delve := findStep(t, steps, StepDelve(tc.target, s.Debug.Delve)).GetExec()
			if got := delve.Meta.Args; !slices.Equal(got, []string{"go", "install", "-trimpath", "github.com/go-delve/delve/cmd/dlv@" + s.Debug.Delve}) {
				t.Errorf("delve is built by %q", got)
			}
			if e := env(delve); e["GOARCH"] != strings.TrimPrefix(tc.target, "linux/") || e["CGO_ENABLED"] != "0" {
				t.Errorf("delve's build env %v", e)
			}
			var copied bool
			for _, st := range steps {
				if f := st.op.GetFile(); f != nil {
					for _, a := range f.Actions {
						if c := a.GetCopy(); c != nil && c.Dest == DelvePath {
							copied = copied || c.Src == tc.delveFrom
						}
					}
				}
			}
			if !copied {
				t.Errorf("delve is not copied from %s", tc.delveFrom)
			}
		})
	}
	s, opt := testInput(t, testSpec, "linux/arm/v7", nil)
	if _, err := Debug(context.Background(), s, opt); err == nil || !strings.Contains(err.Error(), "delve does not debug") {
		t.Errorf("a platform delve does not debug: %v", err)
	}
	named := strings.Replace(testSpec, "  - package: ./cmd/worker\n", "  - package: ./cmd/worker\n    name: dlv\n", 1)
	s, opt = testInput(t, named, "linux/amd64", nil)
	if _, err := Debug(context.Background(), s, opt); err == nil || !strings.Contains(err.Error(), "named dlv") {
		t.Errorf("a binary named dlv: %v", err)
	}
	// The image target stays as it was: no delve, no debug flags, no label.
	imageSteps, img := convert(t, testSpec, "linux/amd64", nil)
	for _, st := range imageSteps {
		if strings.HasPrefix(st.name, "build delve") || strings.Contains(string(st.raw), "all=-N -l") {
			t.Errorf("the image target has a debug step %q", st.name)
		}
	}
	if _, ok := img.Image.Config.Labels[DebugLabel]; ok {
		t.Error("the image target has the debug label")
	}
}
