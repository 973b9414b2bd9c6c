package llb

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"

	digest "github.com/opencontainers/go-digest"
)

var depsTestFiles = map[string][]GoFile{
	"cmd/server": {{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(uuid.New()) }\n")}},
	"cmd/worker": {{Name: "main.go", Data: []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Exit(0) }\n")}},
}

// layerStep is one step that exports compiled packages into a layer.
type layerStep struct {
	*step
	args []string // its command line before the packages
	list string   // the packages it is given, one per line
}

// depsSteps converts spec for target with the context's files and returns
// the steps that make the layers of ./cmd/server's go build (the
// standard library's, the modules'; nil where there is none) and that
// go build.
func depsSteps(t *testing.T, specText, target string, files map[string][]GoFile, mod func(*Options)) (std, modules layerStep, build *step) {
	t.Helper()
	steps, _ := convert(t, specText, target, func(o *Options) {
		o.ModulePath = "example.com/x"
		o.Imports = ReadImports(files)
		if mod != nil {
			mod(o)
		}
	})
	for i, s := range steps {
		switch {
		case strings.HasPrefix(s.name, StepStdLayerPrefix+"for ./cmd/server"):
			std.step = &steps[i]
		case strings.HasPrefix(s.name, StepDependenciesPrefix+"of ./cmd/server"):
			modules.step = &steps[i]
		case strings.HasPrefix(s.name, StepGoBuildPrefix+"./cmd/server"):
			build = &steps[i]
		}
	}
	if build == nil {
		t.Fatal("no go build step")
	}
	for _, l := range []*layerStep{&std, &modules} {
		if l.step == nil {
			continue
		}
		// The packages follow the last --.
		args := l.op.GetExec().Meta.Args
		sep := len(args) - 1
		for sep >= 0 && args[sep] != "--" {
			sep--
		}
		if sep < 0 {
			t.Fatalf("%q: no -- before the packages", args)
		}
		l.args, l.list = args[:sep], strings.Join(args[sep+1:], "\n")+"\n"
	}
	return std, modules, build
}

func TestDependencyLayers(t *testing.T) {
	withFlags := "version: 1\nbinaries:\n  - package: ./cmd/server\n    tags: [netgo]\n    gcflags: [-m]\n    flags: [-v, -x, -pgo=off]\n    ldflags: [\"-X main.version={{.Version}}\"]\n"
	withCgo := "version: 1\nbinaries:\n  - package: ./cmd/server\n    cgo: true\n    ldflags: [-linkmode=external, -extldflags=-static]\n"
	together := "version: 1\nbinaries:\n  - package: ./cmd/server\n    tags: [netgo, osusergo]\n  - package: ./cmd/worker\n    tags: [netgo, osusergo]\n"
	withA := "version: 1\nbinaries:\n  - package: ./cmd/server\n    flags: [-a]\n"
	stdOnly := map[string][]GoFile{"cmd/server": depsTestFiles["cmd/worker"]}
	// A client that imports caches (--cache-from) may be a fresh builder.
	imported := func(o *Options) { o.CacheImported = true }
	for _, tc := range []struct {
		name, spec, target string
		files              map[string][]GoFile
		mod                func(*Options)
		// stdArgs and moduleArgs are the layer steps' command lines, nil
		// where there is no such step; stdList and moduleList the
		// packages they compile.
		stdArgs, moduleArgs []string
		stdList, moduleList string
	}{
		{"two binaries, one go build", together, "linux/amd64", depsTestFiles, imported,
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			"fmt\nos\n", "fmt\ngithub.com/google/uuid\nos\n"},
		{"another platform", together, "linux/arm64", depsTestFiles, imported,
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			"fmt\nos\n", "fmt\ngithub.com/google/uuid\nos\n"},
		{"binaries apart, layers each", testSpec, "linux/amd64", depsTestFiles, imported,
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			"fmt\n", "fmt\ngithub.com/google/uuid\n"},
		{"compile flags kept, printing and linking flags left out", withFlags, "linux/amd64", depsTestFiles, imported,
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo", "-gcflags", "-m", "-pgo=off"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo", "-gcflags", "-m", "-pgo=off"},
			"fmt\n", "fmt\ngithub.com/google/uuid\n"},
		{"no cache imported: a builder that lives on has its dependencies compiled", testSpec, "linux/amd64", depsTestFiles, nil, nil, nil, "", ""},
		{"layer: the modules' layer without a cache imported", testSpec, "linux/amd64", depsTestFiles, func(o *Options) { o.DependencyCache = DependencyCacheLayer },
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			"fmt\n", "fmt\ngithub.com/google/uuid\n"},
		{"layer with a cache imported: both", testSpec, "linux/amd64", depsTestFiles, func(o *Options) { o.DependencyCache, o.CacheImported = DependencyCacheLayer, true },
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			"fmt\n", "fmt\ngithub.com/google/uuid\n"},
		{"the standard library only", testSpec, "linux/amd64", stdOnly, imported,
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"}, nil, "os\n", ""},
		{"cgo", withCgo, "linux/amd64", depsTestFiles, imported, nil, nil, "", ""},
		{"-a compiles everything anyway", withA, "linux/amd64", depsTestFiles, imported, nil, nil, "", ""},
		{"a profile compiles everything apart", strings.Replace(withA, "-a", "-pgo=default.pgo", 1), "linux/amd64", depsTestFiles, imported, nil, nil, "", ""},
		{"a default.pgo beside the main package compiles everything apart", testSpec, "linux/amd64", depsTestFiles,
			func(o *Options) { o.CacheImported, o.ProfileDirs = true, []string{"cmd/server"} }, nil, nil, "", ""},
		{"-pgo=auto reads that default.pgo", strings.Replace(withA, "-a", "-pgo=auto", 1), "linux/amd64", depsTestFiles,
			func(o *Options) { o.CacheImported, o.ProfileDirs = true, []string{"cmd/server"} }, nil, nil, "", ""},
		{"-pgo=off leaves the default.pgo out", withFlags, "linux/amd64", depsTestFiles,
			func(o *Options) { o.CacheImported, o.ProfileDirs = true, []string{"cmd/server"} },
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo", "-gcflags", "-m", "-pgo=off"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo", "-gcflags", "-m", "-pgo=off"},
			"fmt\n", "fmt\ngithub.com/google/uuid\n"},
		{"-pgo=off in goflags leaves the default.pgo out", strings.Replace(testSpec, "goflags: -mod=readonly\n", "goflags: -mod=readonly --pgo=off\n", 1), "linux/amd64", depsTestFiles,
			func(o *Options) { o.CacheImported, o.ProfileDirs = true, []string{"cmd/server"} },
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			"fmt\n", "fmt\ngithub.com/google/uuid\n"},
		{"a default.pgo elsewhere", testSpec, "linux/amd64", depsTestFiles,
			func(o *Options) { o.CacheImported, o.ProfileDirs = true, []string{"cmd/other"} },
			[]string{helperBinary, "export", stdLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			[]string{helperBinary, "export", "-from", stdLayerDir, moduleLayerDir, "-trimpath", "-tags", "netgo,osusergo"},
			"fmt\n", "fmt\ngithub.com/google/uuid\n"},
		{"opted out", testSpec, "linux/amd64", depsTestFiles, func(o *Options) { o.DependencyCache, o.CacheImported = DependencyCacheMount, true }, nil, nil, "", ""},
		{"no imports read", testSpec, "linux/amd64", depsTestFiles, func(o *Options) { o.Imports, o.CacheImported = nil, true }, nil, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			std, modules, build := depsSteps(t, tc.spec, tc.target, tc.files, tc.mod)
			buildExec := build.op.GetExec()
			var seedDirs []string
			for i, l := range []struct {
				step *layerStep
				dir  string
				args []string
				list string
			}{{&std, stdLayerDir, tc.stdArgs, tc.stdList}, {&modules, moduleLayerDir, tc.moduleArgs, tc.moduleList}} {
				if l.args == nil {
					if l.step.step != nil {
						t.Errorf("layer %d: a step where none belongs: %q", i, l.step.op.GetExec().Meta.Args)
					}
					continue
				}
				if l.step.step == nil {
					t.Fatalf("no step for the layer at %s", l.dir)
				}
				seedDirs = append(seedDirs, l.dir)
				exec := l.step.op.GetExec()
				if !slices.Equal(l.step.args, l.args) {
					t.Errorf("%s: runs %q, want %q", l.dir, l.step.args, l.args)
				}
				if l.step.list != l.list {
					t.Errorf("%s: packages %q, want %q", l.dir, l.step.list, l.list)
				}
				// The layer's entries must be go build's: same target and
				// compile settings, same build cache.
				layerEnv, goEnv := env(exec), env(buildExec)
				for _, k := range []string{"GOOS", "GOARCH", "GOAMD64", "GOARM64", "CGO_ENABLED", "GOFLAGS", "GOCACHE", "GOTOOLCHAIN"} {
					if layerEnv[k] != goEnv[k] {
						t.Errorf("%s: %s=%q, go build has %q", l.dir, k, layerEnv[k], goEnv[k])
					}
				}
				if got, want := cacheMounts(exec)[buildCache], cacheMounts(buildExec)[buildCache]; got != want {
					t.Errorf("%s: build cache %q, go build's %q", l.dir, got, want)
				}
				// Keyed by the layer's step: hashing its files would cost a
				// fresh builder more than the layer saves it.
				var mounted bool
				for _, m := range buildExec.Mounts {
					mounted = mounted || (m.Dest == l.dir && m.Readonly && m.ContentCache == pb.MountContentCache_OFF)
				}
				if !mounted {
					t.Errorf("go build does not mount the layer read-only, keyed by its step, at %s", l.dir)
				}
			}
			if std.step != nil {
				stdEnv := env(std.op.GetExec())
				for _, k := range []string{"GOPROXY", "GOMODCACHE"} {
					if _, ok := stdEnv[k]; ok {
						t.Errorf("the standard library's step depends on %s", k)
					}
				}
				for _, m := range std.op.GetExec().Mounts {
					if m.Dest == srcDir || m.Dest == modCacheDir {
						t.Errorf("the standard library's step mounts %s: it must not depend on the module", m.Dest)
					}
				}
			}
			slices.Sort(seedDirs)
			wantArgs := append(append([]string{helperBinary, "seed"}, seedDirs...), "--", "go", "build")
			if seedDirs == nil {
				wantArgs = []string{"go", "build"}
			}
			if _, command := placedCommand(t, buildExec.Meta.Args); !slices.Equal(command[:len(wantArgs)], wantArgs) {
				t.Errorf("go build runs %q, want it to start %q", command, wantArgs)
			}
		})
	}
}

// The layer steps' keys hold what decides the compiled packages and
// nothing else: an edit of the module's code, a new version or an
// unrelated file leave them as they were; an import, a tag or the platform
// do not. A module import leaves the standard library's layer as it was.
func TestDependencyStepKey(t *testing.T) {
	keys := func(specText, target string, files map[string][]GoFile, version string) (std, modules digest.Digest) {
		t.Helper()
		s, m, _ := depsSteps(t, specText, target, files, func(o *Options) { o.Version, o.CacheImported = version, true })
		if s.step == nil || m.step == nil {
			t.Fatal("no layer step")
		}
		return digest.FromBytes(s.raw), digest.FromBytes(m.raw)
	}
	server := func(body string) map[string][]GoFile {
		return map[string][]GoFile{
			"cmd/server": {{Name: "main.go", Data: []byte(body)}},
			"cmd/worker": depsTestFiles["cmd/worker"],
		}
	}
	edited := server("package main\n\nimport (\n\t\"fmt\"\n\t\"github.com/google/uuid\"\n)\n\nfunc main() { fmt.Println(\"edited\", uuid.New()) }\n")
	edited["docs"] = []GoFile{{Name: "doc.go", Data: []byte("package docs\n\nimport \"net/http\"\n")}}
	stdImport := server("package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n\t\"github.com/google/uuid\"\n)\n")
	moduleImport := server("package main\n\nimport (\n\t\"fmt\"\n\t\"github.com/google/uuid\"\n\t\"golang.org/x/sync/errgroup\"\n)\n")
	baseStd, baseModules := keys(testSpec, "linux/amd64", depsTestFiles, "v1.2.3")
	for _, tc := range []struct {
		name, spec, target   string
		files                map[string][]GoFile
		version              string
		sameStd, sameModules bool
	}{
		{"the code edited, a package nothing builds added", testSpec, "linux/amd64", edited, "v1.2.3", true, true},
		{"another version in the ldflags", testSpec, "linux/amd64", depsTestFiles, "v9.9.9", true, true},
		{"a module's package imported", testSpec, "linux/amd64", moduleImport, "v1.2.3", true, false},
		{"a standard package imported", testSpec, "linux/amd64", stdImport, "v1.2.3", false, false},
		{"another platform", testSpec, "linux/arm64", depsTestFiles, "v1.2.3", false, false},
		{"another tag", strings.Replace(testSpec, "osusergo", "timetzdata", 1), "linux/amd64", depsTestFiles, "v1.2.3", false, false},
	} {
		std, modules := keys(tc.spec, tc.target, tc.files, tc.version)
		if (std == baseStd) != tc.sameStd || (modules == baseModules) != tc.sameModules {
			t.Errorf("%s: same standard library key %v, same modules key %v; want %v, %v", tc.name, std == baseStd, modules == baseModules, tc.sameStd, tc.sameModules)
		}
	}
}

// A build that imports caches may get its layers from a registry: they are
// copied into the project's own build cache, never the shared one; a
// build without imports keeps the shared cache.
func TestImportedLayersStayInTheProject(t *testing.T) {
	for _, imported := range []bool{false, true} {
		std, modules, build := depsSteps(t, testSpec, "linux/amd64", depsTestFiles, func(o *Options) {
			o.CacheImported = imported
			o.DependencyCache = DependencyCacheLayer
			o.ModulePartition = "p-0123456789abcdef0123456789abcdef"
		})
		for name, s := range map[string]*step{"standard library": std.step, "modules": modules.step, "go build": build} {
			id := cacheMounts(s.op.GetExec())[buildCache]
			project := strings.HasPrefix(id, "gobuild-gocache-imported-")
			shared := strings.HasPrefix(id, "gobuild-gocache-p-0123456789abcdef0123456789abcdef-")
			if imported && !project || !imported && !shared {
				t.Errorf("cache imported %v: the %s step's build cache is %q", imported, name, id)
			}
		}
	}
}
