package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/gobuildkit/gobuild/internal/localbuildkit"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
)

// commitDate is the time gitIn gives every commit, as {{.Date}} and the
// created label write it.
const commitDate = "2023-11-14T22:13:20Z"

// TestVersionFromGit: without a VERSION build-arg, a context that is a git
// checkout gives {{.Version}} from the nearest tag, and the commit and its
// time reach the labels.
func TestVersionFromGit(t *testing.T) {
	dir := copyDir(t, "testdata/twobins")
	git := gitIn(t, dir)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	git("tag", "v3.1.4")
	git("commit", "-q", "--allow-empty", "-m", "second")
	head := git("rev-parse", "HEAD")

	img := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})["linux/amd64"]
	want := "v3.1.4-1-g" + head[:7]
	server := writeExecutable(t, img.Files["/usr/local/bin/server"])
	if out := runBinary(t, nil, server, "version"); !strings.HasPrefix(out, "server "+want+" ") {
		t.Errorf("server version = %q, want %s from git describe", out, want)
	}
	labels := img.Config.Config.Labels
	if labels["org.opencontainers.image.revision"] != head || labels["org.opencontainers.image.created"] != commitDate {
		t.Errorf("labels = %v, want the commit and its time", labels)
	}
}

// TestDateSameForEveryClient: {{.Date}} and the created label are the
// commit time whatever the client says of the version and the revision:
// buildx sends vcs:revision with every build of a git checkout, buildctl
// and the in-process client send nothing.
func TestDateSameForEveryClient(t *testing.T) {
	dir, git := stampedRepo(t)
	head := git("rev-parse", "HEAD")
	for _, tc := range []struct {
		name  string
		attrs map[string]string
	}{
		{"VERSION and vcs:revision, as buildx sends", map[string]string{"build-arg:VERSION": "v1.2.3", "vcs:revision": head}},
		{"VERSION alone", map[string]string{"build-arg:VERSION": "v1.2.3"}},
		{"nothing", map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.attrs["platform"] = "linux/amd64"
			img := buildImages(t, dir, testenv.BuildOpts{Attrs: tc.attrs})["linux/amd64"]
			if _, _, date := runStamped(t, img); date != commitDate {
				t.Errorf("{{.Date}} = %s, want the commit time %s", date, commitDate)
			}
			if got := img.Config.Config.Labels["org.opencontainers.image.created"]; got != commitDate {
				t.Errorf("created label = %q, want the commit time %s", got, commitDate)
			}
		})
	}
}

// TestVCSWithoutGitInBuilder: the frontend reads .git itself, so a builder
// image without git (as every golang:*-alpine is) stamps the same version,
// commit and date as host git gives, whatever shape the history has on
// disk: loose objects, a fresh clone's pack and packed-refs, a shallow
// clone whose tag is out of reach, a detached HEAD on a tag, merges.
func TestVCSWithoutGitInBuilder(t *testing.T) {
	builder := noGitBuilder(t)
	src, git := stampedRepo(t)
	clone := func(args ...string) string {
		dst := filepath.Join(t.TempDir(), "clone")
		git(append(append([]string{"clone", "-q", "--no-local"}, args...), "file://"+src, dst)...)
		return dst
	}
	merged := clone()
	mgit := gitIn(t, merged)
	mgit("checkout", "-q", "-b", "side", "HEAD~1")
	mgit("commit", "-q", "--allow-empty", "-m", "side")
	mgit("tag", "v1.1.0-side")
	mgit("commit", "-q", "--allow-empty", "-m", "side two")
	mgit("checkout", "-q", "-")
	mgit("merge", "-q", "--no-ff", "-m", "merge", "side")
	mgit("commit", "-q", "--allow-empty", "-m", "after the merge")
	detached := clone()
	gitIn(t, detached)("checkout", "-q", "--detach", "v1.0.0")

	for _, tc := range []struct{ name, dir string }{
		{"loose objects", src},
		{"fresh clone", clone()},
		{"shallow clone", clone("--depth", "1")},
		{"detached on a tag", detached},
		{"merges", merged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := gitIn(t, tc.dir)
			wantVersion := host("describe", "--tags", "--always")
			wantCommit := host("rev-parse", "HEAD")
			img := buildImages(t, tc.dir, testenv.BuildOpts{Attrs: map[string]string{
				"platform":            "linux/amd64",
				"context:golang:1.26": "docker-image://" + builder,
			}})["linux/amd64"]
			version, commit, date := runStamped(t, img)
			if version != wantVersion || commit != wantCommit || date != commitDate {
				t.Errorf("stamped %s %s %s; want %s %s %s as host git says", version, commit, date, wantVersion, wantCommit, commitDate)
			}
		})
	}
}

// TestVCSMissingHistory: a context without .git builds with version dev
// and says so in a warning; a template that needs the commit then fails at
// its line, as a typo would, rather than stamping an empty one.
func TestVCSMissingHistory(t *testing.T) {
	dir := copyDir(t, "testdata/stamped")
	attrs := map[string]string{"platform": "linux/amd64"}
	_, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: attrs})
	if err == nil {
		t.Fatal("the build stamped an unknown commit; want an error at the ldflags' line")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "gobuild.yaml:5") || !strings.Contains(err.Error(), ".Commit") {
		t.Errorf("error = %v, want one at gobuild.yaml:5 about .Commit", err)
	}

	spec := "version: 1\nbinaries:\n  - package: .\n    name: stamped\n    ldflags: [\"-X main.version={{.Version}}\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	if version, _, _ := runStamped(t, layoutImage(t, res)); version != "dev" {
		t.Errorf("version = %s, want dev", version)
	}
	t.Logf("warnings: %q", warningTexts(res))
	var warned bool
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(string(w.Short), "dev")
	}
	if !warned {
		t.Errorf("no warning that {{.Version}} is dev; warnings: %v", warningTexts(res))
	}
}

// TestVCSReadTransfersOnlyGit: reading the history transfers .git alone,
// not the context's other files, and nothing when the build-args and the
// client's options decide every value.
func TestVCSReadTransfersOnlyGit(t *testing.T) {
	dir, _ := stampedRepo(t)
	const big = 30 << 20
	blob := make([]byte, big)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	// Untracked, not ignored, never read by go build.
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	sent := contextBytes(res)
	t.Logf("bytes of context transferred, by step: %v", sent)
	var total int64
	for _, n := range sent {
		total += n
	}
	if total > big+2<<20 {
		t.Errorf("%d bytes of context transferred for a %d-byte file: reading .git sent the context again", total, big)
	}
	// The reads of prepare run at once and BuildKit may count a shared
	// transfer under another of them, so .git's own count can be 0; the
	// version shows that .git was read, and the total that nothing was
	// sent twice.
	if n := sent["[internal] load .git"]; n > 1<<20 {
		t.Errorf("reading .git transferred %d bytes, want .git alone", n)
	}
	if version, _, _ := runStamped(t, layoutImage(t, res)); !strings.HasPrefix(version, "v1.0.0-1-g") {
		t.Errorf("version = %q, want git describe's v1.0.0-1-g...: .git was not read", version)
	}

	res, err = bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: map[string]string{
		"platform": "linux/amd64", "build-arg:VERSION": "v1", "vcs:revision": "0123456", "build-arg:SOURCE_DATE_EPOCH": "1700000000",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Vertices {
		if strings.Contains(v.Name, ".git") {
			t.Errorf("step %q ran though the build-args decide every value", v.Name)
		}
	}
}

// TestBuildvcsMatchesHost: a binary with buildvcs stamps the same
// vcs.revision and vcs.modified as go build on the host does in the same
// clean checkout: go build sees the whole context, not only Go files.
func TestBuildvcsMatchesHost(t *testing.T) {
	dir := copyDir(t, "testdata/stamped")
	spec := "version: 1\nbinaries:\n  - package: .\n    name: stamped\n    buildvcs: true\n"
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("not read by go build\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git := gitIn(t, dir)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "first")

	img := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})["linux/amd64"]
	got := vcsSettings(t, writeExecutable(t, img.Files["/usr/local/bin/stamped"]))

	hostBin := filepath.Join(t.TempDir(), "stamped")
	cmd := exec.Command("/usr/local/go/bin/go", "build", "-buildvcs=true", "-o", hostBin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("host go build: %v\n%s", err, out)
	}
	want := vcsSettings(t, hostBin)
	if want["vcs.modified"] != "false" {
		t.Fatalf("host go build sees a modified tree: %v", want)
	}
	for _, k := range []string{"vcs", "vcs.revision", "vcs.time", "vcs.modified"} {
		if got[k] != want[k] {
			t.Errorf("image binary %s=%q, host go build says %q", k, got[k], want[k])
		}
	}
}

// vcsSettings are the vcs build settings go version -m reports.
func vcsSettings(t *testing.T, bin string) map[string]string {
	t.Helper()
	out, err := exec.Command("/usr/local/go/bin/go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs") {
			k, v, _ := strings.Cut(f[1], "=")
			m[k] = v
		}
	}
	return m
}

// stampedRepo is testdata/stamped as a git checkout: an annotated tag
// v1.0.0 on the first commit and one more commit on top.
func stampedRepo(t *testing.T) (string, func(args ...string) string) {
	t.Helper()
	dir := copyDir(t, "testdata/stamped")
	git := gitIn(t, dir)
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	git("tag", "-a", "-m", "release", "v1.0.0")
	git("commit", "-q", "--allow-empty", "-m", "second")
	return dir, git
}

// runStamped runs the stamped binary of an image and returns what it says.
func runStamped(t *testing.T, img *testenv.Image) (version, commit, date string) {
	t.Helper()
	f := img.Files["/usr/local/bin/stamped"]
	if f == nil {
		t.Fatal("no /usr/local/bin/stamped in the image")
	}
	out := strings.Fields(runBinary(t, nil, writeExecutable(t, f)))
	for len(out) < 3 {
		out = append(out, "")
	}
	return out[0], out[1], out[2]
}

func layoutImage(t *testing.T, res *testenv.BuildResult) *testenv.Image {
	t.Helper()
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		return img
	}
	t.Fatal("no image in the layout")
	return nil
}

func warningTexts(res *testenv.BuildResult) []string {
	var out []string
	for _, w := range res.Warnings {
		out = append(out, string(w.Short))
	}
	return out
}

// contextBytes is how many bytes of local contexts a build transferred,
// by the name of the step that transferred them.
func contextBytes(res *testenv.BuildResult) map[string]int64 {
	names := map[string]string{}
	for _, v := range res.Vertices {
		names[v.Digest.String()] = v.Name
	}
	last := map[string]int64{}
	for _, s := range res.Statuses {
		if strings.HasPrefix(s.ID, "transferring") {
			key := s.Vertex.String() + " " + s.ID
			last[key] = max(last[key], s.Current)
		}
	}
	sent := map[string]int64{}
	for key, n := range last {
		d, _, _ := strings.Cut(key, " ")
		sent[names[d]] += n
	}
	return sent
}

var (
	noGitOnce sync.Once
	noGitRef  string
	noGitErr  error
)

// noGitBuilder pushes the bed's toolchain image without git, as the
// alpine golang images come, and returns its reference.
func noGitBuilder(t *testing.T) string {
	t.Helper()
	noGitOnce.Do(func() {
		noGitRef = bed.Registry + "/golang:1.26-nogit"
		noGitErr = pushNoGitBuilder(context.Background(), noGitRef)
	})
	if noGitErr != nil {
		t.Fatal(noGitErr)
	}
	return noGitRef
}

func pushNoGitBuilder(ctx context.Context, ref string) error {
	st := llb.Image(bed.GoImage).Run(llb.Shlex("sh -c 'rm -f $(command -v git) && ! command -v git'")).Root()
	def, err := st.Marshal(ctx, llb.LinuxAmd64)
	if err != nil {
		return err
	}
	config, err := json.Marshal(map[string]any{
		"os": "linux", "architecture": "amd64",
		"config": map[string]any{"Env": localbuildkit.ToolchainEnv(bed.GoVersion), "WorkingDir": "/go"},
		"rootfs": map[string]any{"type": "layers"},
	})
	if err != nil {
		return err
	}
	c, err := bed.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Solve(ctx, def, client.SolveOpt{Exports: []client.ExportEntry{{
		Type:  client.ExporterImage,
		Attrs: map[string]string{"name": ref, "push": "true", "registry.insecure": "true", "containerimage.config": string(config)},
	}}}, nil)
	return err
}

// gitIn returns a runner of git commands in dir, with a fixed identity and
// commit date so that history is the same on every run.
func gitIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=gobuild", "-c", "user.email=ci@gobuild.invalid", "-c", "advice.detachedHead=false"}, args...)...)
		cmd.Env = append(cmd.Environ(), "GIT_COMMITTER_DATE=1700000000 +0000", "GIT_AUTHOR_DATE=1700000000 +0000")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

// TestDateSameFromEveryRealClient: the README's release command through
// docker buildx (which sends vcs:revision), buildctl with the frontend
// image (which sends none) and the gobuild CLI stamp the same {{.Date}},
// the commit's time, into the same repository's binary.
func TestDateSameFromEveryRealClient(t *testing.T) {
	dir, git := stampedRepo(t)
	spec, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gobuild.yaml"), append([]byte("# syntax="+frontendImageRef(t)+"\n"), spec...), 0o644); err != nil {
		t.Fatal(err)
	}
	// The spec line is not history: commit it, so the tree stays clean.
	git("commit", "-q", "-a", "-m", "syntax line")
	out := t.TempDir()
	clients := map[string]*exec.Cmd{
		"buildx": buildxCommand(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64", "--build-arg", "VERSION=v1.2.3",
			"--build-context", goContext(), "--output", "type=oci,dest="+filepath.Join(out, "buildx.tar"), "."),
		"buildctl": exec.Command(filepath.Join(bed.Bin, "buildctl"), "--addr", bed.Addr, "build",
			"--frontend", "gateway.v0", "--opt", "source="+frontendImageRef(t), "--opt", "filename=gobuild.yaml",
			"--opt", "platform=linux/amd64", "--opt", "build-arg:VERSION=v1.2.3", "--opt", "context:golang:1.26=docker-image://"+bed.GoImage,
			"--local", "context="+dir, "--local", "dockerfile="+dir, "--output", "type=oci,dest="+filepath.Join(out, "buildctl.tar")),
		"gobuild": exec.Command(gobuildCLI(t), "build", "--platform", "linux/amd64", "--build-arg", "VERSION=v1.2.3",
			"--build-context", goContext(), "--oci", filepath.Join(out, "gobuild.tar"), dir),
	}
	clients["gobuild"].Env = append(os.Environ(), "BUILDKIT_HOST="+bed.Addr)
	for name, cmd := range clients {
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		img := readImagesFile(t, filepath.Join(out, name+".tar"))["linux/amd64"]
		if img == nil {
			t.Fatalf("%s: no linux/amd64 image", name)
		}
		version, _, date := runStamped(t, img)
		if version != "v1.2.3" || date != commitDate {
			t.Errorf("%s stamped version %q, date %q; want v1.2.3 and the commit time %s", name, version, date, commitDate)
		}
		if got := img.Config.Config.Labels["org.opencontainers.image.created"]; got != commitDate {
			t.Errorf("%s: created label %q, want %s", name, got, commitDate)
		}
	}
}
