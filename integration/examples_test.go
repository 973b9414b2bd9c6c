package integration

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gbllb "github.com/gobuildkit/gobuild/llb"

	"github.com/gobuildkit/gobuild/integration/testenv"
)

// TestExamples builds every example as written and checks what each one
// is there to show.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*/gobuild.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]func(t *testing.T, dir string){
		"hello":   checkHello,
		"multi":   checkMulti,
		"files":   checkFiles,
		"tested":  checkTested,
		"private": checkPrivate,
	}
	for _, f := range dirs {
		name := filepath.Base(filepath.Dir(f))
		check, ok := checks[name]
		if !ok {
			t.Errorf("examples/%s has no test", name)
			continue
		}
		t.Run(name, func(t *testing.T) { check(t, filepath.Dir(f)) })
	}
}

func buildImages(t *testing.T, dir string, opt testenv.BuildOpts) map[string]*testenv.Image {
	t.Helper()
	res, err := bed.Build(context.Background(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	return images
}

func checkHello(t *testing.T, dir string) {
	// The spec's platforms, asked for as a client that reads them would.
	images := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"build-arg:VERSION": "v0.1.0", "platform": "linux/amd64,linux/arm64"}})
	if got := slices.Sorted(mapsKeys(images)); !slices.Equal(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("platforms = %q, want linux/amd64 and linux/arm64", got)
	}
	hello := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/hello"])
	if out := runBinary(t, nil, hello, "-version"); out != "hello v0.1.0" {
		t.Errorf("hello -version = %q", out)
	}
	if v := images["linux/amd64"].Config.Config.Labels["org.opencontainers.image.version"]; v != "v0.1.0" {
		t.Errorf("version label = %q", v)
	}
}

func checkMulti(t *testing.T, dir string) {
	images := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{
		"build-arg:VERSION": "v2.0.0",
		"vcs:revision":      "0123456789abcdef0123456789abcdef01234567",
		"platform":          "linux/amd64,linux/arm64",
	}})
	amd, arm := images["linux/amd64"], images["linux/arm64"]
	if amd == nil || arm == nil {
		t.Fatalf("platforms = %q", slices.Sorted(mapsKeys(images)))
	}
	if amd.Files["/usr/local/bin/migrate"] == nil || arm.Files["/usr/local/bin/migrate"] != nil {
		t.Error("migrate must be in the amd64 image only (binaries[1].platforms)")
	}
	if !slices.Contains(arm.Config.Config.Env, "GOBUILD_TARGET=linux/arm64") {
		t.Errorf("arm64 env = %q, want the target templated in", arm.Config.Config.Env)
	}
	api := writeExecutable(t, amd.Files["/usr/local/bin/api"])
	if out := runBinary(t, []string{"GOBUILD_TARGET=linux/amd64"}, api); out != "api v2.0.0 (0123456) built for linux/amd64" {
		t.Errorf("api = %q", out)
	}
	labels := amd.Config.Config.Labels
	if labels["org.opencontainers.image.revision"] != "0123456789abcdef0123456789abcdef01234567" || labels["org.opencontainers.image.description"] != "api v2.0.0" {
		t.Errorf("labels = %v", labels)
	}
}

func checkFiles(t *testing.T, dir string) {
	images := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	img := images["linux/amd64"]
	index := img.Files["/srv/static/index.html"]
	if index == nil || !bytes.Contains(index.Data, []byte("static Go binary")) {
		t.Fatal("/srv/static/index.html missing")
	}
	if index.Hdr.Mode&0o7777 != 0o444 || index.Hdr.Uid != 0 {
		t.Errorf("index.html mode %o uid %d, want 0444 root", index.Hdr.Mode&0o7777, index.Hdr.Uid)
	}
	if static := img.Files["/srv/static"]; static == nil || static.Hdr.Mode&0o7777 != 0o555 || static.Hdr.Uid != 0 {
		t.Errorf("/srv/static = %+v, want a directory 0555 of root's: the mode with search where it has read", static.Hdr)
	}
	if img.Files["/srv/static/robots.txt"] == nil {
		t.Error("robots.txt missing")
	}
	hc := img.Config.Config.Healthcheck
	if hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/usr/local/bin/site", "-healthcheck"}) || hc.Retries != 3 || hc.Interval.Seconds() != 30 {
		t.Fatalf("healthcheck = %+v", hc)
	}
	if img.Config.Config.StopSignal != "SIGTERM" || len(img.Manifest.Layers) != 3 {
		t.Errorf("stopsignal %q, %d layers (want static base, binaries, files)", img.Config.Config.StopSignal, len(img.Manifest.Layers))
	}
	checkFilesHealthcheck(t, img, hc.Test[1:])
}

// checkFilesHealthcheck starts the server as the image's user in its
// unpacked image, and runs the healthcheck as that user against it. Both
// get -addr on a free port, so that tests running at once do not meet.
func checkFilesHealthcheck(t *testing.T, img *testenv.Image, check []string) {
	root := unpackRootfs(t, img)
	addr := "-addr=127.0.0.1:" + freePort(t)
	cfg := img.Config.Config
	server := imageCommand(t, root, img, append(append(slices.Clone(cfg.Entrypoint), cfg.Cmd...), addr)...)
	var serverOut bytes.Buffer
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	var out []byte
	var err error
	for range 50 {
		if out, err = imageCommand(t, root, img, append(slices.Clone(check), addr)...).CombinedOutput(); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("healthcheck %q as user %s: %v\n%s\nserver: %s", check, cfg.User, err, out, serverOut.Bytes())
	}
}

func checkTested(t *testing.T, dir string) {
	images := buildImages(t, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": "linux/amd64"}})
	calc := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/calc"])
	if out := runBinary(t, nil, calc, "1", "2", "39"); out != "42" {
		t.Errorf("calc = %q", out)
	}
}

// checkPrivate builds against an authenticated module proxy: with the
// netrc secret it works, the credentials appear in no layer, config or log,
// and without them the build fails saying why.
func checkPrivate(t *testing.T, dir string) {
	proxy := startPrivateProxy(t, "testdata/privatemod", "example.com/private/greet", "v1.0.0")
	attrs := map[string]string{"platform": "linux/amd64", "build-arg:PRIVATE_GOPROXY": proxy.url}
	res, err := bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: attrs, Secrets: map[string][]byte{"netrc": proxy.netrc()}})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Logs)
	}
	images, err := res.Layout.Images()
	if err != nil {
		t.Fatal(err)
	}
	app := writeExecutable(t, images["linux/amd64"].Files["/usr/local/bin/app"])
	if out := runBinary(t, nil, app); out != "hello, gobuild, from a private module" {
		t.Errorf("app = %q", out)
	}
	for d, blob := range res.Layout.Blobs {
		if bytes.Contains(blob, []byte(proxy.password)) {
			t.Errorf("blob %s holds the password", d)
		}
	}
	for _, img := range images {
		for name, f := range img.Files {
			if bytes.Contains(f.Data, []byte(proxy.password)) {
				t.Errorf("image file %s holds the password", name)
			}
		}
	}
	if bytes.Contains(res.Logs, []byte(proxy.password)) {
		t.Error("the build log holds the password")
	}
	for _, v := range res.Vertices {
		if strings.Contains(v.Name, proxy.password) {
			t.Errorf("step %q holds the password", v.Name)
		}
	}

	// With the caches emptied the download runs again, now without
	// credentials.
	pruneAll(t)
	res, err = bed.Build(context.Background(), dir, testenv.BuildOpts{Attrs: attrs})
	if err == nil {
		t.Fatal("the build succeeded without credentials")
	}
	if !strings.Contains(err.Error(), gbllb.StepModDownload) || !bytes.Contains(res.Logs, []byte("401 Unauthorized")) {
		t.Errorf("error %q, logs %q: want go mod download refused by the proxy", err, res.Logs)
	}
}
