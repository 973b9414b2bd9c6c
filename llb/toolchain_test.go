package llb

import (
	"maps"
	"slices"
	"strings"
	"testing"

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
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, _ := convert(t, tc.spec, "linux/amd64", func(o *Options) {
				o.ModulePath = "example.com/x"
				o.Imports = ReadImports(depsTestFiles)
				tc.mod(o)
			})
			byDigest := map[digest.Digest]step{}
			for _, s := range steps {
				byDigest[digest.FromBytes(s.raw)] = s
			}
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
			for _, want := range []string{"src/cmd", "**/*_test.go", "**/testdata", "test", "pkg/tool/*/vet"} {
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
	byDigest := map[digest.Digest]step{}
	for _, s := range steps {
		byDigest[digest.FromBytes(s.raw)] = s
	}
	if from := byDigest[digest.Digest(buildOp.Inputs[after.Input].Digest)]; from.name != StepModDownload {
		t.Errorf("%s comes from %q, want %q", downloadedDir, from.name, StepModDownload)
	}
}
