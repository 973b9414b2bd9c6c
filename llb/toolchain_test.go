package llb

import (
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// Which steps run on the toolchain layer: with a cache imported and the
// builder's distribution known, go mod download, go build and the modules'
// dependency step; none with a direct fetch (git), nor go build with cgo
// or -buildvcs. The standard library's step never does, so that its key is
// the same with or without a cache imported.
func TestToolchainLayer(t *testing.T) {
	known := func(o *Options) { o.CacheImported, o.Goroot = true, DefaultGoroot }
	withSpec := func(key, value string) string {
		return strings.Replace(testSpec, "goflags: -mod=readonly\n", "goflags: -mod=readonly\n"+key+": "+value+"\n", 1)
	}
	buildvcs := strings.Replace(testSpec, "tags: [netgo, osusergo]\n", "tags: [netgo, osusergo]\n    buildvcs: true\n", 1)
	cgo := "version: 1\nbinaries:\n  - package: ./cmd/server\n    cgo: true\n    ldflags: [-linkmode=external, -extldflags=-static]\n"
	for _, tc := range []struct {
		name, spec string
		mod        func(*Options)
		// download, build, std and modules: whether go mod download, go
		// build of ./cmd/server and its dependency steps run on the
		// toolchain layer.
		download, build, std, modules bool
	}{
		{"cache imported, distribution known", testSpec, known, true, true, false, true},
		{"no cache imported: the builder is unpacked already", testSpec, func(o *Options) { o.Goroot = DefaultGoroot }, false, false, false, false},
		{"distribution unknown", testSpec, func(o *Options) { o.CacheImported = true }, false, false, false, false},
		{"modules in a layer (GOBUILD_MODULE_CACHE=layer)", testSpec, func(o *Options) { known(o); o.ModuleCache = ModuleCacheLayer }, true, true, false, true},
		{"opted out with the dependency layers", testSpec, func(o *Options) { known(o); o.DependencyCache = DependencyCacheMount }, false, false, false, false},
		{"private modules are fetched with git", withSpec("goprivate", "example.com/private"), known, false, false, false, false},
		{"a direct proxy fetches with git", withSpec("goproxy", "direct"), known, false, false, false, false},
		{"a proxy falling back to direct", withSpec("goproxy", "https://proxy.example.com,direct"), known, true, true, false, true},
		{"-buildvcs runs git", buildvcs, known, true, false, false, true},
		{"cgo runs the image's C toolchain", cgo, known, true, false, false, false},
		{"a tag named after another system compiles its files", strings.Replace(testSpec, "tags: [netgo, osusergo]\n", "tags: [netgo, android]\n", 1), known, true, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, _ := convert(t, tc.spec, "linux/amd64", func(o *Options) {
				o.ModulePath = "example.com/x"
				o.Imports = ReadImports(depsTestFiles)
				tc.mod(o)
			})
			byDigest := stepsByDigest(steps)
			onToolchain := func(prefix string) (on, found bool) {
				for _, s := range steps {
					if !strings.HasPrefix(s.name, prefix) {
						continue
					}
					exec := s.op.GetExec()
					root := byDigest[digest.Digest(s.op.Inputs[exec.Mounts[0].Input].Digest)]
					return root.name == StepToolchain, true
				}
				return false, false
			}
			for _, c := range []struct {
				prefix string
				want   bool
			}{
				{StepModDownload, tc.download},
				{StepGoBuildPrefix + "./cmd/server", tc.build},
				{StepStdLayerPrefix + "for ./cmd/server", tc.std},
				{StepDependenciesPrefix + "of ./cmd/server", tc.modules},
			} {
				on, found := onToolchain(c.prefix)
				if found && on != c.want {
					t.Errorf("%s: on the toolchain layer %v, want %v", c.prefix, on, c.want)
				}
				if !found && c.want {
					t.Errorf("no step %s", c.prefix)
				}
			}
		})
	}
}

// The toolchain layer is the distribution without what go build never
// reads, the CA bundle and /tmp; a step on it keeps the builder's command
// line and environment, and still runs after go mod download.
func TestToolchainLayerContents(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/amd64", func(o *Options) {
		o.CacheImported, o.Goroot, o.ModulePath = true, DefaultGoroot, "example.com/x"
		o.Imports = ReadImports(depsTestFiles)
	})
	file := findStep(t, steps, StepToolchain).GetFile()
	var copied []string
	var tmpMode int32
	for _, a := range file.Actions {
		cp := a.GetCopy()
		if cp == nil {
			continue
		}
		copied = append(copied, cp.Src)
		if cp.Src == DefaultGoroot {
			for _, want := range []string{"src", "test", "pkg/tool/*/vet"} {
				if !slices.Contains(cp.ExcludePatterns, want) {
					t.Errorf("the distribution's copy keeps %s: excludes %q", want, cp.ExcludePatterns)
				}
			}
		}
		if cp.Src == "/tmp" {
			tmpMode = cp.Mode
		}
	}
	if want := []string{DefaultGoroot, "/etc/ssl/certs/*.crt", "/tmp"}; !slices.Equal(copied, want) {
		t.Errorf("the toolchain layer copies %q, want %q", copied, want)
	}
	if tmpMode != 0o1777 {
		t.Errorf("/tmp mode %o, want 1777", tmpMode)
	}

	// The same go build on the whole builder: only its root and the
	// download's mount differ.
	whole, _ := convert(t, testSpec, "linux/amd64", func(o *Options) {
		o.CacheImported, o.ModulePath = true, "example.com/x"
		o.Imports = ReadImports(depsTestFiles)
	})
	buildOp := findStep(t, steps, StepGoBuild("linux/amd64", "./cmd/server"))
	build := buildOp.GetExec()
	wholeBuild := findStep(t, whole, StepGoBuild("linux/amd64", "./cmd/server")).GetExec()
	if !slices.Equal(build.Meta.Args, wholeBuild.Meta.Args) || !maps.Equal(env(build), env(wholeBuild)) {
		t.Errorf("go build on the toolchain layer runs %q with %q; on the builder %q with %q", build.Meta.Args, build.Meta.Env, wholeBuild.Meta.Args, wholeBuild.Meta.Env)
	}
	var after *pb.Mount
	for _, m := range build.Mounts {
		if m.Dest == downloadedDir {
			after = m
		}
	}
	if after == nil || !after.Readonly {
		t.Fatalf("go build on the toolchain layer does not mount the download's output read-only at %s", downloadedDir)
	}
	byDigest := stepsByDigest(steps)
	if from := byDigest[digest.Digest(buildOp.Inputs[after.Input].Digest)]; from.name != StepModDownload {
		t.Errorf("%s comes from %q, want %q", downloadedDir, from.name, StepModDownload)
	}

	// The sources: the helper copies them out of the builder, offline,
	// and go build mounts them read-only, the split directories from the
	// second output on their places in the first.
	sources := findStep(t, steps, StepToolchainSources).GetExec()
	src := DefaultGoroot + "/src"
	if args := sources.Meta.Args; len(args) < 3 || args[1] != "sources" || args[2] != src {
		t.Errorf("%s runs %q, want the helper's sources command on %s", StepToolchainSources, args, src)
	}
	if sources.Network != pb.NetMode_NONE {
		t.Errorf("%s runs with network %v, want none", StepToolchainSources, sources.Network)
	}
	outputs := map[int64]string{}
	for _, m := range sources.Mounts {
		if m.Output >= 0 && m.Dest != "/" {
			outputs[m.Output] = m.Dest
		}
	}
	mounted := map[string]string{}
	for _, m := range build.Mounts {
		if !strings.HasPrefix(m.Dest, src) {
			continue
		}
		from := byDigest[digest.Digest(buildOp.Inputs[m.Input].Digest)]
		if from.name != StepToolchainSources || !m.Readonly || m.ContentCache != pb.MountContentCache_OFF {
			t.Errorf("go build mounts %s from %q, read-only %v, content cache %v; want %q's output, read-only, keyed by the step", m.Dest, from.name, m.Readonly, m.ContentCache, StepToolchainSources)
		}
		mounted[m.Dest] = outputs[buildOp.Inputs[m.Input].Index] + ":" + m.Selector
	}
	want := map[string]string{src: "/gobuild/sources/rest:"}
	for _, dir := range splitSources {
		want[src+"/"+dir] = "/gobuild/sources/split:/" + dir
	}
	if !maps.Equal(mounted, want) {
		t.Errorf("go build mounts the sources %q, want %q", mounted, want)
	}

	// The modules' dependency step compiles, so it mounts them too; go mod
	// download reads no package, and does not wait for them.
	mountsSources := func(name string) bool {
		for _, m := range findStep(t, steps, name).GetExec().Mounts {
			if m.Dest == src {
				return true
			}
		}
		return false
	}
	if !mountsSources(StepDependencies("linux/amd64", "./cmd/server")) {
		t.Errorf("%s does not mount the sources", StepDependencies("linux/amd64", "./cmd/server"))
	}
	if mountsSources(StepModDownload) {
		t.Errorf("%s mounts the sources", StepModDownload)
	}
}

// A daemon without the option to key a step on a read-only mount's step
// gets a definition that does not ask for it.
func TestMountsKeyedByContent(t *testing.T) {
	for _, byContent := range []bool{false, true} {
		steps, _ := convert(t, testSpec, "linux/amd64", func(o *Options) {
			o.CacheImported, o.Goroot, o.ModulePath = true, DefaultGoroot, "example.com/x"
			o.Imports = ReadImports(depsTestFiles)
			o.MountsKeyedByContent = byContent
		})
		var off int
		for _, s := range steps {
			for _, m := range s.op.GetExec().GetMounts() {
				if m.ContentCache == pb.MountContentCache_OFF {
					off++
				}
			}
		}
		if byContent && off > 0 || !byContent && off == 0 {
			t.Errorf("MountsKeyedByContent %v: %d mounts keyed by their step", byContent, off)
		}
	}
}

// The helper's sources command keeps what go build may read for a linux
// program (go/build's file name rule), splits the distribution's src in
// two with mount points for the split part, and keeps modes and times.
func TestToolchainSources(t *testing.T) {
	helper := buildHelper(t)
	modTime := time.Date(2026, 8, 28, 16, 20, 6, 0, time.UTC)
	files := []struct {
		name string
		kept bool
	}{
		{"go.mod", true},
		{"os/file.go", true},
		{"os/file_linux.go", true},
		{"os/file_windows.go", false},
		{"os/file_unix.go", true}, // unix is a build tag, not a name
		{"os/file_linux_arm64.go", true},
		{"os/file_windows_amd64.go", false},
		{"os/file_arm64.go", true}, // another build's architecture: kept
		{"os/file_windows_extra.go", true},
		{"os/exec_darwin.s", false},
		{"os/exec_linux_amd64.s", true},
		{"os/file_test.go", false},
		{"os/file_linux_test.go", false},
		{"os/testdata/input.go", false},
		{"os/notes_windows.txt", true}, // not a source: may be embedded
		{"cmd/go/main.go", false},
		{"runtime/asm_amd64.s", true},
		{"runtime/os_plan9.go", false},
		{"runtime/os_android.go", false},
		{"runtime/os_illumos.go", false},
		{"runtime/defs_ios_arm64.go", false},
		{"runtime/sys_windows.h", false},
		{"runtime/race_windows_amd64.syso", false},
		{"runtime/asm_windows_test.s", false},
		{"runtime/asm_linux_arm64.s", true},
		// go/build reads a name up to its first dot, and so does the helper.
		{"os/aead_fips140v1.26.go", true},
		{"os/tables.x_windows.go", true},
		{"os/file_fips140v1.26_windows.go", true},
		{"internal/abi/abi.go", true},
		{"vendor/modules.txt", true},
	}
	from := t.TempDir()
	for _, f := range files {
		file := filepath.Join(from, f.name)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(f.name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(from, "os", "file.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(from, func(file string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(file, modTime, modTime)
	}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	rest, split := filepath.Join(out, "rest"), filepath.Join(out, "split")
	for _, dir := range []string{rest, split} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(helper, append([]string{"sources", from, rest, split, strings.Join(otherSystems, ","), "--"}, splitSources...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gobuild-helper sources: %v\n%s", err, msg)
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			top, _, _ := strings.Cut(f.name, "/")
			dir := rest
			if slices.Contains(splitSources, top) {
				dir = split
			}
			info, err := os.Stat(filepath.Join(dir, f.name))
			if f.kept != (err == nil) {
				t.Fatalf("in %s: %v, want kept %v", filepath.Base(dir), err, f.kept)
			}
			if f.kept && !info.ModTime().Equal(modTime) {
				t.Errorf("modified %v, want %v", info.ModTime(), modTime)
			}
		})
	}
	// Every split directory has a place in the rest to be mounted on, and
	// a directory in the split to mount, even one the distribution lacks
	// (syscall here); both keep the distribution's times.
	for _, dir := range splitSources {
		entries, err := os.ReadDir(filepath.Join(rest, dir))
		if err != nil || len(entries) != 0 {
			t.Errorf("rest/%s: %v, %d entries; want an empty directory", dir, err, len(entries))
		}
		for _, tree := range []string{rest, split} {
			if info, err := os.Stat(filepath.Join(tree, dir)); err != nil || !info.ModTime().Equal(modTime) {
				t.Errorf("%s/%s: %v; want a directory with the distribution's time", filepath.Base(tree), dir, err)
			}
		}
	}
	if info, err := os.Stat(filepath.Join(rest, "os", "file.go")); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("rest/os/file.go: %v; want its mode 755 kept", err)
	}
	if info, err := os.Stat(filepath.Join(rest, "os")); err != nil || !info.ModTime().Equal(modTime) {
		t.Errorf("rest/os: %v; want its time kept", err)
	}
}
