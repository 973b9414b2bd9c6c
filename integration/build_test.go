package integration

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	gbllb "github.com/gobuildkit/gobuild/llb"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// TestBuildTwoBinariesMultiPlatform is the product's main promise: two main
// packages with a third-party dependency, cross-compiled for two platforms
// into static, minimal, nonroot images.
func TestBuildTwoBinariesMultiPlatform(t *testing.T) {
	ctx := context.Background()
	res, err := bed.Build(ctx, "testdata/twobins", testenv.BuildOpts{Attrs: map[string]string{
		"platform":          "linux/amd64,linux/arm64",
		"build-arg:VERSION": "v1.2.3",
	}})
	if err != nil {
		t.Fatal(err)
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 2 || images["linux/amd64"] == nil || images["linux/arm64"] == nil {
		t.Fatalf("want linux/amd64 and linux/arm64 manifests, got %v", slices.Sorted(mapsKeys(images)))
	}

	for platform, img := range images {
		t.Run(strings.ReplaceAll(platform, "/", "_"), func(t *testing.T) {
			arch := img.Config.Architecture
			wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
			for _, name := range []string{"server", "worker"} {
				f := img.Files["/usr/local/bin/"+name]
				if f == nil {
					t.Fatalf("/usr/local/bin/%s missing", name)
				}
				assertStaticELF(t, f.Data, wantMachine)
			}

			cfg := img.Config.Config
			if cfg.User != "65532" {
				t.Errorf("user = %q, want 65532", cfg.User)
			}
			if !slices.Equal(cfg.Entrypoint, []string{"/usr/local/bin/server"}) {
				t.Errorf("entrypoint = %q, want the first binary", cfg.Entrypoint)
			}
			if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
				t.Errorf("exposed ports = %v, want 8080/tcp", cfg.ExposedPorts)
			}
			if cfg.Labels["org.opencontainers.image.title"] != "twobins" {
				t.Errorf("labels = %v", cfg.Labels)
			}
			if img.Config.OS != "linux" || len(img.Config.History) != len(img.Manifest.Layers) {
				t.Errorf("config os=%q history=%d layers=%d", img.Config.OS, len(img.Config.History), len(img.Manifest.Layers))
			}

			ca := img.Files["/etc/ssl/certs/ca-certificates.crt"]
			if ca == nil || !bytes.Contains(ca.Data, []byte("BEGIN CERTIFICATE")) {
				t.Error("CA bundle missing or empty")
			}
			if zi := img.Files["/usr/share/zoneinfo.zip"]; zi == nil || len(zi.Data) < 100_000 {
				t.Error("zoneinfo.zip missing or truncated")
			}
			if p := img.Files["/etc/passwd"]; p == nil || !bytes.Contains(p.Data, []byte("nonroot:x:65532:65532:")) {
				t.Error("/etc/passwd has no nonroot user")
			}
			if tmp := img.Files["/tmp"]; tmp == nil || tmp.Hdr.Mode&0o7777 != 0o1777 {
				t.Errorf("/tmp missing or not 1777: %+v", tmp)
			}
			for name := range img.Files {
				switch path.Base(name) {
				case "sh", "bash", "ash", "busybox":
					t.Errorf("image has a shell: %s", name)
				}
			}
		})
	}

	// The native binary runs, reports the injected version and finds time
	// zones through the image's ZONEINFO.
	amd64 := images["linux/amd64"]
	server := writeExecutable(t, amd64.Files["/usr/local/bin/server"])
	if out := runBinary(t, nil, server, "version"); !strings.HasPrefix(out, "server v1.2.3 ") {
		t.Errorf("amd64 server version = %q, want v1.2.3", out)
	}
	zoneinfo := writeExecutable(t, amd64.Files["/usr/share/zoneinfo.zip"])
	if out := runBinary(t, []string{"ZONEINFO=" + zoneinfo}, server, "tz"); out != "tz America/New_York" {
		t.Errorf("tz lookup = %q", out)
	}
	worker := writeExecutable(t, amd64.Files["/usr/local/bin/worker"])
	if out := runBinary(t, nil, worker); out != "worker v1.2.3-amd64" {
		t.Errorf("worker = %q, want the {{.Target.Arch}} template expanded", out)
	}

	// The arm64 binary runs under emulation.
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Fatalf("qemu-aarch64-static is needed to run the arm64 binary (apt-get install -y qemu-user-static): %v", err)
	}
	arm := writeExecutable(t, images["linux/arm64"].Files["/usr/local/bin/server"])
	if out := runBinary(t, nil, qemu, arm, "version"); !strings.HasPrefix(out, "server v1.2.3 ") {
		t.Errorf("arm64 server version = %q, want v1.2.3", out)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func runBinary(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// assertStaticELF checks the architecture and that nothing is loaded at
// run time: no interpreter, no dynamic section.
func assertStaticELF(t *testing.T, data []byte, machine elf.Machine) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an ELF file: %v", err)
	}
	if f.Machine != machine {
		t.Errorf("machine = %v, want %v", f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary is dynamically linked (%v)", p.Type)
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("binary is not stripped")
	}
}

// TestSourceChangeKeepsDownloadCached: editing Go code re-runs go build but
// never go mod download, whose inputs are go.mod and go.sum alone.
func TestSourceChangeKeepsDownloadCached(t *testing.T) {
	ctx := context.Background()
	dir := copyDir(t, "testdata/twobins")
	opts := testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}}
	if _, err := bed.Build(ctx, dir, opts); err != nil {
		t.Fatal(err)
	}
	src := dir + "/cmd/worker/main.go"
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	code = bytes.Replace(code, []byte(`"worker"`), []byte(`"worker (changed)"`), 1)
	if err := os.WriteFile(src, code, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if v := vertex(t, res, gbllb.StepModDownload); !v.Cached {
		t.Error("go mod download ran again after a source change")
	}
	if v := vertex(t, res, gbllb.StepGoBuild("linux/amd64", "./cmd/worker")); v.Cached {
		t.Error("go build was cached although its source changed")
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	worker := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/worker"])
	if out := runBinary(t, nil, worker); !strings.HasPrefix(out, "worker (changed)") {
		t.Errorf("rebuilt worker prints %q", out)
	}
}

// TestReproducible: the same inputs give the same image digest, even when
// nothing is cached between the two builds: with SOURCE_DATE_EPOCH, whose
// time every file and the config carry, and without, where the binaries'
// layer is go build's output dated by the helper at the Unix epoch.
func TestReproducible(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		epoch int64
	}{
		{"SOURCE_DATE_EPOCH", map[string]string{"build-arg:SOURCE_DATE_EPOCH": "1700000000"}, 1700000000},
		{"no epoch", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := map[string]string{"platform": "linux/amd64,linux/arm64"}
			maps.Copy(attrs, tc.attrs)
			reproducible(t, testenv.BuildOpts{Attrs: attrs}, tc.epoch)
		})
	}
}

func reproducible(t *testing.T, opts testenv.BuildOpts, epoch int64) {
	ctx := context.Background()
	first, err := bed.Build(ctx, "testdata/twobins", opts)
	if err != nil {
		t.Fatal(err)
	}
	pruneAll(t)
	second, err := bed.Build(ctx, "testdata/twobins", opts)
	if err != nil {
		t.Fatal(err)
	}
	if v := vertex(t, second, gbllb.StepGoBuild("linux/arm64", "./cmd/server")); v.Cached {
		t.Fatal("the second build was served from cache; the test proves nothing")
	}
	a, b := first.Layout.Top(), second.Layout.Top()
	if a.Digest != b.Digest {
		t.Errorf("image digests differ: %s vs %s", a.Digest, b.Digest)
	}
	before, err := first.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	images, err := second.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	// Name what differs, so a regression says where it is.
	for p, img := range images {
		old := before[p]
		if old == nil {
			t.Errorf("%s missing from the first build", p)
			continue
		}
		if old.Manifest.Config.Digest != img.Manifest.Config.Digest {
			t.Errorf("%s: configs differ:\n%s\n%s", p, old.Layout.Blobs[old.Manifest.Config.Digest], img.Layout.Blobs[img.Manifest.Config.Digest])
		}
		for i := range min(len(old.Manifest.Layers), len(img.Manifest.Layers)) {
			if old.Manifest.Layers[i].Digest != img.Manifest.Layers[i].Digest {
				t.Errorf("%s: layer %d differs: %s", p, i, diffFiles(old.Files, img.Files))
			}
		}
	}
	for p, img := range images {
		if img.Config.Created == nil || img.Config.Created.Unix() != epoch {
			t.Errorf("%s: created = %v, want %d", p, img.Config.Created, epoch)
		}
		for _, bin := range []string{"/usr/local/bin/server", "/usr/local/bin/worker", "/usr/local/bin"} {
			if f := img.Files[bin]; f == nil || f.Hdr.ModTime.Unix() != epoch {
				t.Errorf("%s: %s is missing or not dated %d", p, bin, epoch)
			}
		}
	}
}

// diffFiles names the files whose content, mode or time differs.
func diffFiles(a, b map[string]*testenv.File) string {
	var out []string
	for name, fa := range a {
		fb := b[name]
		switch {
		case fb == nil:
			out = append(out, name+" only in the first")
		case !bytes.Equal(fa.Data, fb.Data):
			out = append(out, name+" content")
		case fa.Hdr.Mode != fb.Hdr.Mode || !fa.Hdr.ModTime.Equal(fb.Hdr.ModTime) || fa.Hdr.Uid != fb.Hdr.Uid:
			out = append(out, fmt.Sprintf("%s header %v/%v %v/%v", name, fa.Hdr.Mode, fb.Hdr.Mode, fa.Hdr.ModTime, fb.Hdr.ModTime))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// TestBinariesWithSameSettingsShareOneGoBuild: two binaries built alike go
// through one go build per platform, and each reaches the image under its
// spec name, with the templated ldflags of its platform.
func TestBinariesWithSameSettingsShareOneGoBuild(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	specText := `version: 1
binaries:
  - package: ./cmd/server
    ldflags: ["-X main.version={{.Version}}-{{.Target.Arch}}"]
  - package: ./cmd/worker
    name: jobs
    ldflags: ["-X main.version={{.Version}}-{{.Target.Arch}}"]
`
	if err := os.WriteFile(path.Join(dir, "gobuild.yaml"), []byte(specText), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{
		"platform":          "linux/amd64,linux/arm64",
		"build-arg:VERSION": "v2.0.0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Vertices {
		if strings.HasPrefix(v.Name, gbllb.StepGoBuildPrefix+"./cmd/worker") || strings.HasPrefix(v.Name, gbllb.StepGoBuildPrefix+"./cmd/server (") {
			t.Errorf("step %q: the binaries were built apart", v.Name)
		}
	}
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		vertex(t, res, gbllb.StepGoBuild(platform, "./cmd/server", "./cmd/worker"))
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	for platform, machine := range map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64} {
		img := images[platform]
		if img == nil {
			t.Fatalf("no %s image", platform)
		}
		for _, name := range []string{"server", "jobs"} {
			f := img.Files["/usr/local/bin/"+name]
			if f == nil {
				t.Fatalf("%s: /usr/local/bin/%s missing", platform, name)
			}
			assertStaticELF(t, f.Data, machine)
		}
		if img.Files["/usr/local/bin/worker"] != nil {
			t.Errorf("%s: /usr/local/bin/worker is there; the binary is named jobs", platform)
		}
	}
	amd64 := images["linux/amd64"]
	if out := runBinary(t, nil, writeExecutable(t, amd64.Files["/usr/local/bin/jobs"])); out != "worker v2.0.0-amd64" {
		t.Errorf("jobs = %q, want worker v2.0.0-amd64", out)
	}
	if out := runBinary(t, nil, writeExecutable(t, amd64.Files["/usr/local/bin/server"]), "version"); !strings.HasPrefix(out, "server v2.0.0-amd64 ") {
		t.Errorf("server version = %q", out)
	}
}
