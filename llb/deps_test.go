package llb

import (
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

var depsTestFiles = map[string][]GoFile{
	"cmd/server": {{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(uuid.New()) }\n")}},
	"cmd/worker": {{Name: "main.go", Data: []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Exit(0) }\n")}},
}

// depsStep converts spec for target with the context's files and returns
// the dependency step (nil when there is none), its digest, the package
// list it compiles and the go build step of ./cmd/server.
func depsStep(t *testing.T, specText, target string, files map[string][]GoFile, mod func(*Options)) (deps *step, list string, build *step) {
	t.Helper()
	steps, _ := convert(t, specText, target, func(o *Options) {
		o.ModulePath = "example.com/x"
		o.Imports = ReadImports(files)
		if mod != nil {
			mod(o)
		}
	})
	byDigest := map[digest.Digest]*step{}
	for i, s := range steps {
		byDigest[digest.FromBytes(s.raw)] = &steps[i]
		switch {
		case strings.HasPrefix(s.name, StepDependenciesPrefix+"of ./cmd/server"):
			deps = &steps[i]
		case strings.HasPrefix(s.name, StepGoBuildPrefix+"./cmd/server"):
			build = &steps[i]
		}
	}
	if build == nil {
		t.Fatal("no go build step")
	}
	if deps == nil {
		return nil, "", build
	}
	for _, m := range deps.op.GetExec().Mounts {
		if m.Dest == packageListDir {
			file := byDigest[digest.Digest(deps.op.Inputs[m.Input].Digest)].op.GetFile()
			list = string(file.Actions[0].GetMkfile().Data)
		}
	}
	return deps, list, build
}

func TestDependencyStep(t *testing.T) {
	withFlags := "version: 1\nbinaries:\n  - package: ./cmd/server\n    tags: [netgo]\n    gcflags: [-m]\n    flags: [-v, -x, -pgo=off]\n    ldflags: [\"-X main.version={{.Version}}\"]\n"
	withCgo := "version: 1\nbinaries:\n  - package: ./cmd/server\n    cgo: true\n    ldflags: [-linkmode=external, -extldflags=-static]\n"
	together := "version: 1\nbinaries:\n  - package: ./cmd/server\n    tags: [netgo, osusergo]\n  - package: ./cmd/worker\n    tags: [netgo, osusergo]\n"
	withA := "version: 1\nbinaries:\n  - package: ./cmd/server\n    flags: [-a]\n"
	for _, tc := range []struct {
		name, spec, target string
		mod                func(*Options)
		// args are the dependency step's go list flags; nil: no step.
		args []string
		list string
	}{
		{"two binaries, one go build", together, "linux/amd64", nil,
			[]string{"-trimpath", "-tags", "netgo,osusergo"}, "fmt\ngithub.com/google/uuid\nos\n"},
		{"another platform", together, "linux/arm64", nil,
			[]string{"-trimpath", "-tags", "netgo,osusergo"}, "fmt\ngithub.com/google/uuid\nos\n"},
		{"binaries apart, a layer each", testSpec, "linux/amd64", nil,
			[]string{"-trimpath", "-tags", "netgo,osusergo"}, "fmt\ngithub.com/google/uuid\n"},
		{"compile flags kept, printing and linking flags left out", withFlags, "linux/amd64", nil,
			[]string{"-trimpath", "-tags", "netgo", "-gcflags", "-m", "-pgo=off"}, "fmt\ngithub.com/google/uuid\n"},
		{"cgo", withCgo, "linux/amd64", nil, nil, ""},
		{"-a compiles everything anyway", withA, "linux/amd64", nil, nil, ""},
		{"opted out", testSpec, "linux/amd64", func(o *Options) { o.DependencyCache = DependencyCacheMount }, nil, ""},
		{"no imports read", testSpec, "linux/amd64", func(o *Options) { o.Imports = nil }, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps, list, build := depsStep(t, tc.spec, tc.target, depsTestFiles, tc.mod)
			buildArgs := build.op.GetExec().Meta.Args
			if tc.args == nil {
				if deps != nil || buildArgs[0] != "go" {
					t.Fatalf("a dependency layer where none belongs: go build runs %q", buildArgs)
				}
				return
			}
			if deps == nil {
				t.Fatal("no dependency step")
			}
			exec := deps.op.GetExec()
			want := append([]string{gocacheHelper, "export", dependencyDir, packageListDir + "/list"}, tc.args...)
			if !slices.Equal(exec.Meta.Args, want) {
				t.Errorf("dependency step runs %q, want %q", exec.Meta.Args, want)
			}
			if list != tc.list {
				t.Errorf("packages %q, want %q", list, tc.list)
			}
			depsEnv, goEnv := env(exec), env(build.op.GetExec())
			for k, v := range goEnv {
				if (strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_")) && depsEnv[k] != v {
					t.Errorf("%s=%q in the dependency step, %q in go build: the cache entries would not match", k, depsEnv[k], v)
				}
			}
			if got := cacheMounts(exec)[buildCache]; got != cacheMounts(build.op.GetExec())[buildCache] {
				t.Errorf("build cache %q, go build's %q: the dependency step must fill go build's cache", got, cacheMounts(build.op.GetExec())[buildCache])
			}
			if !slices.Equal(buildArgs[:4], []string{gocacheHelper, "seed", dependencyDir, "--"}) || buildArgs[4] != "go" {
				t.Errorf("go build runs %q, want it behind the seeding helper", buildArgs)
			}
			var mounted bool
			for _, m := range build.op.GetExec().Mounts {
				mounted = mounted || (m.Dest == dependencyDir && m.Readonly)
			}
			if !mounted {
				t.Errorf("go build does not mount the dependency layer read-only at %s", dependencyDir)
			}
		})
	}
}

// The dependency step's key holds what decides the compiled dependencies
// and nothing else: an edit of the module's code, a new version or an
// unrelated file leave it as it was; an import, a tag or the platform do
// not.
func TestDependencyStepKey(t *testing.T) {
	key := func(specText, target string, files map[string][]GoFile, version string) digest.Digest {
		t.Helper()
		deps, _, _ := depsStep(t, specText, target, files, func(o *Options) { o.Version = version })
		if deps == nil {
			t.Fatal("no dependency step")
		}
		return digest.FromBytes(deps.raw)
	}
	edited := map[string][]GoFile{
		"cmd/server": {{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(\"edited\", uuid.New()) }\n")}},
		"cmd/worker": depsTestFiles["cmd/worker"],
		"docs":       {{Name: "doc.go", Data: []byte("package docs\n\nimport \"net/http\"\n")}},
	}
	newImport := map[string][]GoFile{
		"cmd/server": {{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n\t\"github.com/google/uuid\"\n)\n")}},
		"cmd/worker": depsTestFiles["cmd/worker"],
	}
	base := key(testSpec, "linux/amd64", depsTestFiles, "v1.2.3")
	for _, tc := range []struct {
		name, spec, target string
		files              map[string][]GoFile
		version            string
		same               bool
	}{
		{"the code edited, a package nothing builds added", testSpec, "linux/amd64", edited, "v1.2.3", true},
		{"another version in the ldflags", testSpec, "linux/amd64", depsTestFiles, "v9.9.9", true},
		{"an import added", testSpec, "linux/amd64", newImport, "v1.2.3", false},
		{"another platform", testSpec, "linux/arm64", depsTestFiles, "v1.2.3", false},
		{"another tag", strings.Replace(testSpec, "osusergo", "timetzdata", 1), "linux/amd64", depsTestFiles, "v1.2.3", false},
	} {
		if got := key(tc.spec, tc.target, tc.files, tc.version); (got == base) != tc.same {
			t.Errorf("%s: same key %v, want %v", tc.name, got == base, tc.same)
		}
	}
}
