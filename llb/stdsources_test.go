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
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	modulepkg "golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
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
		// modules is the step whose output go build mounts as its module
		// cache, writable; empty for a cache mount or an empty one.
		modules string
		// trimmingWorker: ./cmd/worker's go build trims paths where
		// ./cmd/server's does not, and mounts the module layer.
		trimmingWorker bool
	}{
		{"cache imported, distribution known", testSpec, layered, StepReachedSources, StepReachedSources, false},
		{"-buildmode=pie links nothing more", withFlag("-buildmode=pie"), layered, StepReachedSources, StepReachedSources, false},
		{"vendored: no module cache", strings.Replace(testSpec, "goflags: -mod=readonly\n", "", 1), func(o *Options) { layered(o); o.Modules.Vendor = true }, StepReachedSources, "", false},
		{"GOBUILD_MODULE_CACHE=layer: what go build reads of it", testSpec, func(o *Options) { layered(o); o.ModuleCache = ModuleCacheLayer }, StepReachedSources, StepReachedSources, false},
		{"a partition of its own: no private sources in the cache", testSpec, func(o *Options) { layered(o); o.ModulePartition = "p-0123456789abcdef0123456789abcdef" }, StepReachedSources, "", false},
		{"a partition of its own with GOBUILD_MODULE_CACHE=layer", testSpec, func(o *Options) {
			layered(o)
			o.ModulePartition, o.ModuleCache = "p-0123456789abcdef0123456789abcdef", ModuleCacheLayer
		}, StepReachedSources, StepReachedSources, false},
		{"no cache imported: the whole builder", testSpec, func(o *Options) { layered(o); o.CacheImported = false }, "", "", false},
		{"the build's platforms unknown", testSpec, func(o *Options) { layered(o); o.TargetPlatforms = nil }, StepToolchainSources, "", false},
		{"the layer made for other platforms", testSpec, func(o *Options) { layered(o); o.TargetPlatforms = both[1:] }, StepToolchainSources, "", false},
		{"-cover links runtime/coverage", withFlag("-cover"), layered, StepToolchainSources, "", false},
		{"-covermode in goflags too", strings.Replace(testSpec, "goflags: -mod=readonly\n", "goflags: -mod=readonly -covermode=atomic\n", 1), layered, StepToolchainSources, "", false},
		{"a local replacement's imports are not read", testSpec, func(o *Options) { layered(o); o.Modules.Dirs = []string{"lib"} }, StepToolchainSources, "", false},
		{"cgo runs on the whole builder", cgo, layered, "", StepModCopy, false},
		// A compiled package's key holds its directory without -trimpath:
		// go build reads the module cache its dependency layers came from.
		{"no -trimpath: the module cache itself", strings.Replace(testSpec, "  - package: ./cmd/worker\n", "    trimpath: false\n  - package: ./cmd/worker\n    trimpath: false\n", 1), layered, StepReachedSources, "", false},
		{"no -trimpath beside a binary that trims: the module cache itself", strings.Replace(testSpec, "  - package: ./cmd/worker\n", "    trimpath: false\n  - package: ./cmd/worker\n", 1), layered, StepReachedSources, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, _ := convert(t, tc.spec, "linux/amd64", func(o *Options) {
				o.ModulePath = "example.com/x"
				o.Imports = ReadImports(files)
				tc.mod(o)
			})
			byDigest := stepsByDigest(steps)
			// mounts is what the go build of pkg mounts as src and as its
			// module cache, its build cache's id, and whether it runs
			// behind the helper that makes the module layer its cache.
			mounts := func(pkg string) (src, modules, buildCacheID string, behind, found bool) {
				for _, s := range steps {
					if !strings.HasPrefix(s.name, StepGoBuildPrefix+pkg) {
						continue
					}
					found = true
					_, command := placedCommand(t, s.op.GetExec().Meta.Args)
					behind = slices.Equal(command[:min(4, len(command))], []string{helperBinary, "reached", reachedModCacheDir, "--"})
					for _, m := range s.op.GetExec().Mounts {
						if m.Dest == buildCache && m.MountType == pb.MountType_CACHE {
							buildCacheID = m.CacheOpt.ID
						}
						if m.Input < 0 {
							continue
						}
						from := byDigest[digest.Digest(s.op.Inputs[m.Input].Digest)].name
						switch m.Dest {
						case path.Join(DefaultGoroot, "src"):
							src = from
						case modCacheDir, reachedModCacheDir:
							if m.Readonly || m.MountType != pb.MountType_BIND {
								t.Errorf("go build mounts its module cache from %q read-only or not as a layer: %+v", from, m)
							}
							if (m.Dest == reachedModCacheDir) != (from == StepReachedSources) {
								t.Errorf("go build mounts %q at %s", from, m.Dest)
							}
							modules = from
						}
					}
				}
				return src, modules, buildCacheID, behind, found
			}
			src, modules, buildCacheID, behind, _ := mounts("./cmd/server")
			if src != tc.src {
				t.Fatalf("go build mounts src from %q, want %q", src, tc.src)
			}
			if modules != tc.modules {
				t.Fatalf("go build mounts its module cache from %q, want %q", modules, tc.modules)
			}
			// go indexes a module by its directory into the build cache,
			// and trusts that index: the helper makes the layer's one
			// directory, named by what it holds, the module cache, so
			// that two subsets never share an index.
			if behind != (modules == StepReachedSources) {
				t.Errorf("go build runs behind the helper's reached: %v, with the module layer mounted: %v", behind, modules == StepReachedSources)
			}
			if _, workerModules, _, workerBehind, found := mounts("./cmd/worker"); found && tc.trimmingWorker {
				if workerModules != StepReachedSources || !workerBehind {
					t.Errorf("the trimming worker's go build mounts its module cache from %q, behind the helper: %v; want the module layer", workerModules, workerBehind)
				}
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
			wantArgs := 7
			if tc.modules == StepReachedSources || tc.trimmingWorker {
				wantArgs = 8 // and the module cache's layer
			}
			if len(args) != wantArgs || args[1] != "subset" || args[2] != "/usr/local/go/src" || args[5] != strings.Join(otherSystems, ",") {
				t.Fatalf("the step runs %q", args)
			}
			if archs := strings.Split(args[6], ","); !slices.Contains(archs, "amd64") || !slices.Contains(archs, "arm64") || slices.Contains(archs, "s390x") {
				t.Errorf("architectures kept %q, want both targets' and no other", archs)
			}
			// go list indexes the modules it loads into GOCACHE: without
			// go build's cache, a go.mod change indexed them all again.
			if !slices.ContainsFunc(reached.op.GetExec().Mounts, func(m *pb.Mount) bool {
				return m.Dest == buildCache && m.MountType == pb.MountType_CACHE && m.CacheOpt.ID == buildCacheID
			}) {
				t.Errorf("the step has no mount of go build's cache %q at %s", buildCacheID, buildCache)
			}
			// go list may fetch, as go build does: with its credentials.
			if env := reached.op.GetExec().Meta.Env; !slices.Contains(env, "NETRC=/run/secrets/netrc") {
				t.Errorf("go list runs with env %q, want go build's NETRC", env)
			}
			// What it copies of the module cache is the partition's.
			var o Options
			tc.mod(&o)
			if env := reached.op.GetExec().Meta.Env; !slices.Contains(env, "GOBUILD_MODULE_PARTITION="+o.partitionName()) {
				t.Errorf("the step runs with env %q, want its partition's name", env)
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

// With a module output, the subset command also copies what the go
// builds read of the module cache: the packages reached (their files for
// the targets, what they embed), each module's go.mod and hash, and the
// go.mod of every version go.sum names; nothing unreached, no zip. A go
// with that as its module cache builds offline, byte for byte as with
// the whole cache.
func TestSubsetHelperModules(t *testing.T) {
	helper := buildHelper(t)
	tmp := t.TempDir()
	proxy, cache, module := filepath.Join(tmp, "proxy"), filepath.Join(tmp, "cache"), filepath.Join(tmp, "app")
	dep := map[string]string{
		"go.mod":                 "module example.com/Dep\n\ngo 1.21\n",
		"used/used.go":           "package used\n\nimport (\n\t_ \"embed\"\n\n\t\"example.com/Dep/inner\"\n)\n\n//go:embed data/msg.txt\nvar Msg string\n\nvar N = inner.N\n",
		"used/used_windows.go":   "package used\n",
		"used/used_test.go":      "package used\n",
		"used/data/msg.txt":      "embedded\n",
		"used/data/unused.txt":   "not embedded\n",
		"inner/inner.go":         "package inner\n\nconst N = 42\n",
		"unused/unused.go":       "package unused\n",
		"unused/data/big.txt":    "unused\n",
		"README":                 "a dependency\n",
		"used/nested/nested.go":  "package nested\n",
		"inner/deeper/deeper.go": "package deeper\n",
	}
	writeModuleZip(t, proxy, "example.com/Dep", "v1.0.0", dep)
	// example.com/pre provides no package the app imports, but its path
	// is a prefix of example.com/pre/sub's, which requires it: go looks
	// in it for the package too, to rule out an ambiguous import.
	writeModuleZip(t, proxy, "example.com/pre", "v1.0.0", map[string]string{
		"go.mod": "module example.com/pre\n\ngo 1.21\n", "pre.go": "package pre\n", "other/other.go": "package other\n"})
	writeModuleZip(t, proxy, "example.com/pre/sub", "v1.0.0", map[string]string{
		"go.mod": "module example.com/pre/sub\n\ngo 1.21\n\nrequire example.com/pre v1.0.0\n", "pkg/pkg.go": "package pkg\n\nconst S = \"sub\"\n"})
	app := map[string]string{
		"go.mod":  "module example.com/app\n\ngo 1.21\n\nrequire (\n\texample.com/Dep v1.0.0\n\texample.com/pre/sub v1.0.0\n)\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/Dep/used\"\n\t\"example.com/pre/sub/pkg\"\n)\n\nfunc main() { fmt.Print(used.Msg, used.N, pkg.S) }\n",
	}
	for name, text := range app {
		writeFile(t, filepath.Join(module, name), text)
	}
	goEnv := []string{"GOFLAGS=-modcacherw", "GOTOOLCHAIN=local", "GOSUMDB=off", "GOPROXY=file://" + proxy, "GOMODCACHE=" + cache, "CGO_ENABLED=0"}
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = module, append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
	}
	run(goEnv, "go", "mod", "tidy")
	// Required by the app itself, as projects require
	// google.golang.org/genproto beside its googleapis/rpc module.
	run(goEnv, "go", "get", "example.com/pre@v1.0.0")

	var jobs []reachedJob
	for _, arch := range []string{"amd64", "arm64"} {
		jobs = append(jobs, reachedJob{Env: []string{"GOOS=linux", "GOARCH=" + arch, "CGO_ENABLED=0", "GOMODCACHE=" + cache}, Flags: []string{"-trimpath"}, Packages: []string{"example.com/Dep/used", "example.com/pre/sub/pkg", "fmt"}})
	}
	data, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	jobFile, modules := filepath.Join(tmp, "jobs.json"), filepath.Join(tmp, "modules")
	writeFile(t, jobFile, string(data))
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	subset := func(jobFile, modules string) string {
		t.Helper()
		run([]string{"GOFLAGS=", "GOTOOLCHAIN=local", "GOPROXY=off"}, helper, "subset", filepath.Join(strings.TrimSpace(string(goroot)), "src"), t.TempDir(), jobFile,
			strings.Join(otherSystems, ","), "amd64,arm64", modules)
		// One directory, named by what it holds: go build's module cache.
		entries, err := os.ReadDir(modules)
		if err != nil || len(entries) != 1 || !entries[0].IsDir() || !strings.HasPrefix(entries[0].Name(), "subset-") {
			t.Fatalf("the layer of modules holds %v (%v), want one subset-KEY directory", entries, err)
		}
		return entries[0].Name()
	}
	key := subset(jobFile, modules)
	// The same packages give the same name; fewer, another, so that go
	// never indexes two subsets under one path.
	if again := subset(jobFile, filepath.Join(t.TempDir(), "modules")); again != key {
		t.Errorf("the same subset is named %s, then %s", key, again)
	}
	fewer := slices.Clone(jobs)
	for i := range fewer {
		fewer[i].Packages = []string{"example.com/pre/sub/pkg", "fmt"}
	}
	fewerData, err := json.Marshal(fewer)
	if err != nil {
		t.Fatal(err)
	}
	fewerFile := filepath.Join(t.TempDir(), "jobs.json")
	writeFile(t, fewerFile, string(fewerData))
	if other := subset(fewerFile, filepath.Join(t.TempDir(), "modules")); other == key {
		t.Errorf("a subset of fewer packages has the same name %s", key)
	}
	layerDir := modules
	modules = filepath.Join(modules, key)

	// The module cache escapes upper case as '!' and its lower case.
	const root = "example.com/!dep@v1.0.0"
	for name, want := range map[string]bool{
		root + "/go.mod":                                      true,
		root + "/used/used.go":                                true,
		root + "/used/data/msg.txt":                           true,  // embedded
		root + "/inner/inner.go":                              true,  // imported by used
		root + "/used/used_windows.go":                        false, // another system
		root + "/used/used_test.go":                           false,
		root + "/used/data/unused.txt":                        false,
		root + "/used/nested":                                 false, // a package not reached
		root + "/inner/deeper":                                false,
		root + "/unused":                                      false,
		root + "/README":                                      true, // at the root of a module a package path starts with
		"cache/download/example.com/!dep/@v/v1.0.0.mod":       true,
		"cache/download/example.com/!dep/@v/v1.0.0.ziphash":   true,
		"cache/download/example.com/!dep/@v/v1.0.0.zip":       false,
		"cache/download/example.com/!dep/@v/v1.0.0.lock":      false,
		"cache/download/example.com/!dep/@v/list":             false,
		"cache/download/example.com/!dep/@v/v1.0.0.zip.bogus": false,
		"example.com/pre/sub@v1.0.0/pkg/pkg.go":               true,
		"example.com/pre@v1.0.0/pre.go":                       true, // the prefix module's root
		"example.com/pre@v1.0.0/other":                        false,
		"cache/download/example.com/pre/@v/v1.0.0.ziphash":    true,
	} {
		if _, err := os.Lstat(filepath.Join(modules, name)); (err == nil) != want {
			t.Errorf("%s kept %v, want %v", name, err == nil, want)
		}
	}

	// go builds offline on the layer (writable, as go build mounts it),
	// behind the helper that makes its directory the module cache, and
	// the program is the one the whole cache gives.
	// A build cache each, so that the second build links a binary of its
	// own rather than finding the first one's.
	// Behind the helper, GOMODCACHE names an empty directory, as the step's
	// environment names a module cache go build must not read.
	build := func(arch, modcache string, command ...string) []byte {
		t.Helper()
		bin := filepath.Join(t.TempDir(), "app")
		run([]string{"GOFLAGS=", "GOTOOLCHAIN=local", "GOPROXY=off", "GOMODCACHE=" + modcache, "GOCACHE=" + t.TempDir(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch},
			append(command, "go", "build", "-trimpath", "-o", bin, ".")...)
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	layer := filepath.Join(t.TempDir(), "layer")
	if err := os.CopyFS(layer, os.DirFS(layerDir)); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if got, want := build(arch, t.TempDir(), helper, "reached", layer, "--"), build(arch, cache); !slices.Equal(got, want) {
			t.Errorf("%s: the program built on the layer differs from the one built on the whole cache", arch)
		}
	}
}

// writeModuleZip serves module version v with files from a GOPROXY
// directory.
func writeModuleZip(t *testing.T, proxy, module, version string, files map[string]string) {
	t.Helper()
	escaped, err := modulepkg.EscapePath(module)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(proxy, escaped, "@v")
	src := t.TempDir()
	for name, text := range files {
		writeFile(t, filepath.Join(src, name), text)
	}
	writeFile(t, filepath.Join(dir, "list"), version+"\n")
	writeFile(t, filepath.Join(dir, version+".info"), `{"Version":"`+version+`","Time":"2024-01-01T00:00:00Z"}`)
	writeFile(t, filepath.Join(dir, version+".mod"), files["go.mod"])
	zipFile, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zipFile.Close()
	if err := modzip.CreateFromDir(zipFile, modulepkg.Version{Path: module, Version: version}, src); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
