package llb

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Which go builds read only the standard packages their binaries reach:
// those on the toolchain layer that go list can speak for, from one layer
// made for every target platform of the build. The others read the whole
// src, or run on the whole builder.
func TestReachedSources(t *testing.T) {
	both := []ocispecs.Platform{platforms.MustParse("linux/amd64"), platforms.MustParse("linux/arm64")}
	layered := func(o *Options) {
		o.CacheImported, o.Goroot, o.TargetPlatforms = true, DefaultGoroot, both
	}
	withFlag := func(flag string) string {
		return strings.Replace(testSpec, "tags: [netgo, osusergo]\n", "tags: [netgo, osusergo]\n    flags: ["+flag+"]\n", 1)
	}
	// A file only a newer toolchain builds brings compress/bzip2.
	files := maps.Clone(depsTestFiles)
	files["cmd/server"] = append(slices.Clone(files["cmd/server"]), GoFile{Name: "newer.go",
		Data: []byte("//go:build go1.99\n\npackage main\n\nimport _ \"compress/bzip2\"\n")})
	cgo := "version: 1\nbinaries:\n  - package: ./cmd/server\n    cgo: true\n    ldflags: [-linkmode=external, -extldflags=-static]\n"
	for _, tc := range []struct {
		name, spec string
		mod        func(*Options)
		// src is the step whose output go build of ./cmd/server mounts
		// as the distribution's src; empty when it mounts none (it runs
		// on the whole builder).
		src string
	}{
		{"cache imported, distribution known", testSpec, layered, StepReachedSources},
		{"-buildmode=pie links nothing more", withFlag("-buildmode=pie"), layered, StepReachedSources},
		{"no cache imported: the whole builder", testSpec, func(o *Options) { layered(o); o.CacheImported = false }, ""},
		{"the build's platforms unknown", testSpec, func(o *Options) { layered(o); o.TargetPlatforms = nil }, StepToolchainSources},
		{"the layer made for other platforms", testSpec, func(o *Options) { layered(o); o.TargetPlatforms = both[1:] }, StepToolchainSources},
		{"-cover links runtime/coverage", withFlag("-cover"), layered, StepToolchainSources},
		{"-covermode in goflags too", strings.Replace(testSpec, "goflags: -mod=readonly\n", "goflags: -mod=readonly -covermode=atomic\n", 1), layered, StepToolchainSources},
		{"a local replacement's imports are not read", testSpec, func(o *Options) { layered(o); o.Modules.Dirs = []string{"lib"} }, StepToolchainSources},
		{"cgo runs on the whole builder", cgo, layered, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, _ := convert(t, tc.spec, "linux/amd64", func(o *Options) {
				o.ModulePath = "example.com/x"
				o.Imports = ReadImports(files)
				tc.mod(o)
			})
			byDigest := stepsByDigest(steps)
			var src string
			for _, s := range steps {
				if !strings.HasPrefix(s.name, StepGoBuildPrefix+"./cmd/server") {
					continue
				}
				for _, m := range s.op.GetExec().Mounts {
					if m.Dest == path.Join(DefaultGoroot, "src") {
						src = byDigest[digest.Digest(s.op.Inputs[m.Input].Digest)].name
					}
				}
			}
			if src != tc.src {
				t.Fatalf("go build mounts src from %q, want %q", src, tc.src)
			}
			if src != StepReachedSources {
				return
			}
			var reached step
			for _, s := range steps {
				if s.name == StepReachedSources {
					reached = s
				}
			}
			args := reached.op.GetExec().Meta.Args
			if len(args) != 7 || args[1] != "subset" || args[2] != "/usr/local/go/src" || args[5] != strings.Join(otherSystems, ",") {
				t.Fatalf("the step runs %q", args)
			}
			if archs := strings.Split(args[6], ","); !slices.Contains(archs, "amd64") || !slices.Contains(archs, "arm64") || slices.Contains(archs, "s390x") {
				t.Errorf("architectures kept %q, want both targets' and no other", archs)
			}
			// go list may fetch, as go build does: with its credentials.
			if env := reached.op.GetExec().Meta.Env; !slices.Contains(env, "NETRC=/run/secrets/netrc") {
				t.Errorf("go list runs with env %q, want go build's NETRC", env)
			}
			var jobs []reachedJob
			for _, s := range steps {
				if f := s.op.GetFile(); f != nil && s.name == "[internal] list the go builds" {
					if err := json.Unmarshal(f.Actions[0].GetMkfile().Data, &jobs); err != nil {
						t.Fatal(err)
					}
				}
			}
			// server and worker, for both platforms.
			if len(jobs) != 4 {
				t.Fatalf("%d jobs, want 4: %+v", len(jobs), jobs)
			}
			var goarchs []string
			for _, job := range jobs {
				for _, kv := range job.Env {
					if arch, ok := strings.CutPrefix(kv, "GOARCH="); ok {
						goarchs = append(goarchs, arch)
					}
				}
			}
			slices.Sort(goarchs)
			if !slices.Equal(goarchs, []string{"amd64", "amd64", "arm64", "arm64"}) {
				t.Errorf("jobs for GOARCH %q", goarchs)
			}
			server := jobs[0]
			for _, pkg := range []string{"fmt", "github.com/google/uuid", "compress/bzip2"} {
				if !slices.Contains(server.Packages, pkg) {
					t.Errorf("server's job lists %q, want %s", server.Packages, pkg)
				}
			}
			if !slices.Contains(server.Flags, "netgo,osusergo") {
				t.Errorf("server's job has flags %q, want its tags", server.Flags)
			}
		})
	}
}

// The helper's subset command keeps the packages go list says the jobs
// reach, those the linker adds included, for their architectures only,
// and a go with that src builds the program; when go list cannot load a
// package, it keeps every package.
func TestSubsetHelper(t *testing.T) {
	helper := buildHelper(t)
	module := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":         "module example.com/subset\n\ngo 1.21\n",
		"main.go":        "package main\n\nimport \"net/http\"\n\nfunc main() { _ = http.ListenAndServe(\":8080\", nil) }\n",
		"empty/main.go":  "package main\n\nfunc main() {}\n",
		"empty/other.go": "package main\n",
	} {
		file := filepath.Join(module, name)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goenv, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	goroot := strings.TrimSpace(string(goenv))
	subset := func(archs []string, packages ...string) string {
		t.Helper()
		var jobs []reachedJob
		for _, arch := range archs {
			jobs = append(jobs, reachedJob{Env: []string{"GOOS=linux", "GOARCH=" + arch, "CGO_ENABLED=0"}, Flags: []string{"-trimpath"}, Packages: packages})
		}
		data, err := json.Marshal(jobs)
		if err != nil {
			t.Fatal(err)
		}
		jobFile, out := filepath.Join(t.TempDir(), "jobs.json"), t.TempDir()
		if err := os.WriteFile(jobFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(helper, "subset", filepath.Join(goroot, "src"), out, jobFile, strings.Join(otherSystems, ","), strings.Join(archs, ","))
		cmd.Dir = module
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GOTOOLCHAIN=local", "GOPROXY=off")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gobuild-helper subset: %v\n%s", err, msg)
		}
		return out
	}
	exists := func(root, name string) bool {
		_, err := os.Lstat(filepath.Join(root, name))
		return err == nil
	}
	// build builds pkg for arch with a go whose src is sources.
	build := func(sources, arch, pkg string) {
		t.Helper()
		root := t.TempDir()
		entries, err := os.ReadDir(goroot)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			target := filepath.Join(goroot, e.Name())
			if e.Name() == "src" {
				target = sources
			}
			if err := os.Symlink(target, filepath.Join(root, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(filepath.Join(root, "bin", "go"), "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "subset"), pkg)
		cmd.Dir = module
		cmd.Env = append(os.Environ(), "GOROOT="+root, "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOFLAGS=", "GOTOOLCHAIN=local", "GOCACHE="+t.TempDir())
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go build of %s for %s on the subset: %v\n%s", pkg, arch, err, msg)
		}
	}

	out := subset([]string{"amd64", "arm64"}, "net/http")
	for name, want := range map[string]bool{
		"net/http/server.go":                  true,
		"runtime/asm_amd64.s":                 true,
		"runtime/asm_arm64.s":                 true,
		"runtime/asm_s390x.s":                 false, // another architecture
		"runtime/os_windows.go":               false, // another system
		"runtime/cgo/abi_amd64.h":             true,  // runtime's assembly includes it
		"net/http/server_test.go":             false,
		"image/gif":                           false, // not reached
		"cmd":                                 false,
		"vendor/modules.txt":                  true,
		"go.mod":                              true,
		"internal/bytealg/compare_generic.go": true,
	} {
		if got := exists(out, name); got != want {
			t.Errorf("%s kept %v, want %v", name, got, want)
		}
	}
	want, err := os.Stat(filepath.Join(goroot, "src", "net", "http"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.Stat(filepath.Join(out, "net", "http")); err != nil || !got.ModTime().Equal(want.ModTime()) {
		t.Errorf("net/http: %v; want the distribution's time %v", err, want.ModTime())
	}
	for _, arch := range []string{"amd64", "arm64"} {
		build(out, arch, ".")
	}

	// The linker adds math to every program for arm, which imports
	// nothing here.
	arm := subset([]string{"arm"})
	if !exists(arm, "math/abs.go") {
		t.Errorf("math left out for arm")
	}
	build(arm, "arm", "./empty")

	// A package of a module go list cannot find.
	if out := subset([]string{"amd64"}, "net/http", "example.com/absent/pkg"); !exists(out, "image/gif") {
		t.Errorf("with a package go list cannot load, image/gif was left out; want every package kept")
	}
}
