package integration

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gbllb "github.com/gobuildkit/gobuild/llb"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/gobuildkit/gobuild/internal/localbuildkit"
	"github.com/moby/buildkit/client"
)

// TestRegistryCacheAcrossDaemons: a build on one daemon exports its cache
// to the registry; a second daemon with an empty cache imports it and runs
// no go command, as ephemeral CI builders do. Both import the cache, as a
// CI job does on every run: a build that imports caches has the modules'
// dependency layer in its go build (docs/design.md).
func TestRegistryCacheAcrossDaemons(t *testing.T) {
	ctx := context.Background()
	second := "unix://" + filepath.Join(bed.Dir, "second.sock")
	if err := bed.StartDaemon(ctx, "second", second, nil); err != nil {
		t.Fatal(err)
	}
	cache := map[string]string{"ref": bed.Registry + "/cache:twobins", "registry.insecure": "true"}
	exportAttrs := map[string]string{"mode": "max"}
	for k, v := range cache {
		exportAttrs[k] = v
	}
	attrs := map[string]string{"platform": "linux/amd64,linux/arm64", "build-arg:VERSION": "v1"}
	if _, err := bed.Build(ctx, "testdata/twobins", testenv.BuildOpts{Attrs: attrs,
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}},
		CacheExports: []client.CacheOptionsEntry{{Type: "registry", Attrs: exportAttrs}}}); err != nil {
		t.Fatal(err)
	}
	res, err := bed.Build(ctx, "testdata/twobins", testenv.BuildOpts{Attrs: attrs, Addr: second,
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{gbllb.StepGoBuild("linux/amd64", "./cmd/server"), gbllb.StepGoBuild("linux/arm64", "./cmd/worker")} {
		// A step under one found in the cache may be reported started,
		// then canceled: never run, it prints nothing.
		log, err := res.StepLog(name)
		if vertex(t, res, name); ran(res, name) || err != nil || len(log) > 0 {
			t.Errorf("%s ran on the second daemon despite the registry cache (%v):\n%s", name, err, log)
		}
	}
	images, err := res.Layout.Images()
	if err != nil || len(images) != 2 {
		t.Fatalf("images = %d, %v", len(images), err)
	}
}

// TestTLSDaemon: a buildkitd exposed over TCP with mutual TLS, the way
// remote clusters are reached.
func TestTLSDaemon(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPath, ca.pem, 0o644); err != nil {
		t.Fatal(err)
	}
	serverCert, serverKey, err := ca.issue(dir, "buildkitd", x509.ExtKeyUsageServerAuth)
	if err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey, err := ca.issue(dir, "client", x509.ExtKeyUsageClientAuth)
	if err != nil {
		t.Fatal(err)
	}
	port, err := localbuildkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	clientOpts := []client.ClientOpt{client.WithServerConfig("127.0.0.1", caPath), client.WithCredentials(clientCert, clientKey)}
	if err := bed.StartDaemon(ctx, "tls", addr, clientOpts,
		"--tlscacert", caPath, "--tlscert", serverCert, "--tlskey", serverKey); err != nil {
		t.Fatal(err)
	}

	// Without a client certificate the daemon refuses.
	if _, err := bed.Build(ctx, "testdata/twobins", testenv.BuildOpts{Addr: addr, ClientOpts: clientOpts[:1]}); err == nil {
		t.Error("the daemon accepted a client without a certificate")
	}
	res, err := bed.Build(ctx, "testdata/twobins", testenv.BuildOpts{Addr: addr, ClientOpts: clientOpts,
		Attrs: map[string]string{"platform": "linux/arm64", "build-arg:VERSION": "v-tls"}})
	if err != nil {
		t.Fatal(err)
	}
	images, err := res.Layout.Images()
	if err != nil || images["linux/arm64"] == nil {
		t.Fatalf("images = %v, %v", images, err)
	}

	// The CLI reaches the same daemon with buildctl's TLS flags.
	oci := filepath.Join(dir, "cli.tar")
	cmd := exec.Command(gobuildCLI(t), "build", "--tlscacert", caPath, "--tlscert", clientCert, "--tlskey", clientKey,
		"--build-context", goContext(), "--platform", "linux/amd64", "--oci", oci, "testdata/twobins")
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+addr)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gobuild build over TLS: %v\n%s", err, out)
	}
	if images := readImagesFile(t, oci); images["linux/amd64"] == nil {
		t.Errorf("the CLI's OCI layout has %d images, no linux/amd64", len(images))
	}
}

// TestModuleCacheOnFreshBuilder: what a registry cache gives an ephemeral
// builder after a source change. The default cache mount is not in the
// cache export, but the layer of the module packages go build reads is:
// the re-run go build downloads nothing. Neither does it with
// GOBUILD_MODULE_CACHE=layer, whose download is a layer. Without the
// dependency layers (GOBUILD_DEPENDENCY_CACHE=mount) there is no such
// layer, and go build downloads the modules again. Both builds import and
// export the cache, as CI jobs do.
func TestModuleCacheOnFreshBuilder(t *testing.T) {
	ctx := context.Background()
	dir := copyDir(t, "testdata/twobins")
	fresh := "unix://" + filepath.Join(bed.Dir, "fresh.sock")
	if err := bed.StartDaemon(ctx, "fresh", fresh, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, moduleCache, dependencyCache string
		download                           bool
	}{
		{"mount", "mount", "auto", false},
		{"layer", "layer", "auto", false},
		{"mount-without-layers", "mount", "mount", true},
	} {
		mode := tc.name
		cache := map[string]string{"ref": bed.Registry + "/cache:modules-" + mode, "registry.insecure": "true"}
		exportAttrs := map[string]string{"mode": "max", "ref": cache["ref"], "registry.insecure": "true"}
		attrs := map[string]string{"platform": "linux/amd64", "build-arg:VERSION": "v1",
			"build-arg:GOBUILD_MODULE_CACHE": tc.moduleCache, "build-arg:GOBUILD_DEPENDENCY_CACHE": tc.dependencyCache}
		if _, err := bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs,
			CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}},
			CacheExports: []client.CacheOptionsEntry{{Type: "registry", Attrs: exportAttrs}}}); err != nil {
			t.Fatal(err)
		}
		main := filepath.Join(dir, "cmd", "server", "main.go")
		src, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(main, append(src, "\n// edited for "+mode+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := bed.Build(ctx, dir, testenv.BuildOpts{Attrs: attrs, Addr: fresh,
			CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: cache}}})
		if err != nil {
			t.Fatal(err)
		}
		if v := vertex(t, res, gbllb.StepGoBuild("linux/amd64", "./cmd/server")); v.Cached {
			t.Fatalf("%s: the edited server was not rebuilt", mode)
		}
		downloaded := strings.Contains(string(res.Logs), "go: downloading github.com/google/uuid")
		if !tc.download && downloaded {
			t.Errorf("%s: go build downloaded modules the registry cache holds:\n%s", mode, res.Logs)
		}
		if tc.download && !downloaded {
			t.Errorf("%s: go build found modules a fresh builder cannot have; is the test still measuring anything?\n%s", mode, res.Logs)
		}
	}
}
