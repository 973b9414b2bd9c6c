package localbuildkit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"
)

// pushToolchainImage makes a minimal golang:X image from the host's Go
// (static binaries), a static busybox and the host's CA bundle, and pushes
// it to the registry: no public registry is needed to build Go.
func (b *Daemons) pushToolchainImage(ctx context.Context, extraCA []byte, logf func(string, ...any)) error {
	goroot, version, err := hostGo()
	if err != nil {
		return err
	}
	b.GoVersion = version
	b.GoImage = b.Registry + "/golang:" + MinorVersion(version)
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox is not installed; the toolchain image needs a static one (apt-get install -y busybox-static)")
	}
	busybox, err = filepath.EvalSymlinks(busybox)
	if err != nil {
		return err
	}

	bundle, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return fmt.Errorf("reading the host's CA bundle: %w", err)
	}
	certsDir := b.CertsDir()
	if err := os.MkdirAll(certsDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(certsDir, "ca-certificates.crt"), append(bundle, extraCA...), 0o644); err != nil {
		return err
	}
	// Official golang images have git, which go build -buildvcs uses;
	// bring the host's along.
	gitRoot := filepath.Join(b.Dir, "git")
	if err := stageGit(gitRoot); err != nil {
		return fmt.Errorf("staging git for the toolchain image: %w", err)
	}
	mounts := map[string]string{
		"goroot":  goroot,
		"busybox": filepath.Dir(busybox),
		"certs":   certsDir,
		"git":     gitRoot,
	}
	localMounts := map[string]fsutil.FS{}
	for name, dir := range mounts {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return err
		}
		localMounts[name] = fs
	}
	gorootSrc := llb.Local("goroot", llb.ExcludePatterns([]string{"test", "api", "doc", "misc"}))
	busyboxSrc := llb.Local("busybox", llb.FollowPaths([]string{filepath.Base(busybox)}))
	certsSrc := llb.Local("certs", llb.FollowPaths([]string{"ca-certificates.crt"}))

	st := llb.Scratch().
		File(llb.Copy(gorootSrc, "/", "/usr/local/go", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}), llb.WithCustomName("copy the host's Go")).
		File(llb.Mkdir("/bin", 0o755).
			Copy(busyboxSrc, filepath.Base(busybox), "/bin/busybox").
			Mkdir("/etc/ssl/certs", 0o755, llb.WithParents(true)).
			Copy(certsSrc, "ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt").
			Mkdir("/tmp", 0o777).
			Mkdir("/root", 0o700).
			Mkdir("/go", 0o777))
	st = st.File(llb.Copy(llb.Local("git"), "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true}), llb.WithCustomName("copy the host's git"))
	st = st.Run(llb.Args([]string{"/bin/busybox", "--install", "-s", "/bin"}), llb.WithCustomName("busybox --install")).Root()
	def, err := st.Marshal(ctx, llb.LinuxAmd64)
	if err != nil {
		return err
	}

	env := ToolchainEnv(version)
	config, err := json.Marshal(map[string]any{
		"os":           "linux",
		"architecture": runtime.GOARCH,
		"config":       map[string]any{"Env": env, "WorkingDir": "/go"},
		"rootfs":       map[string]any{"type": "layers"},
	})
	if err != nil {
		return err
	}

	c, err := b.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	logf("pushing %s (Go %s from %s)", b.GoImage, version, goroot)
	_, err = c.Solve(ctx, def, client.SolveOpt{
		LocalMounts: localMounts,
		Exports: []client.ExportEntry{{
			Type: client.ExporterImage,
			Attrs: map[string]string{
				"name":                  b.GoImage,
				"push":                  "true",
				"registry.insecure":     "true",
				"containerimage.config": string(config),
			},
		}},
	}, nil)
	return err
}

// stageGit copies the host's git and the shared libraries it loads into
// dir, at their own paths, so that it runs in an image without a distro.
// Without git on the host, dir stays empty.
func stageGit(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return nil
	}
	out, err := exec.Command("ldd", git).Output()
	if err != nil {
		return fmt.Errorf("ldd %s: %w", git, err)
	}
	files := []string{git}
	for _, line := range strings.Split(string(out), "\n") {
		for _, field := range strings.Fields(line) {
			if strings.HasPrefix(field, "/") {
				files = append(files, field)
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f) // follows symlinks: the copy is the library itself
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// CertsDir holds ca-certificates.crt, the CA bundle of the toolchain
// image: the host's, and Options.ExtraCACerts.
func (b *Daemons) CertsDir() string { return filepath.Join(b.Dir, "certs") }

// ToolchainEnv is the environment of the toolchain images, as official
// golang images set it, with the host's GOPROXY.
func ToolchainEnv(goVersion string) []string {
	env := []string{
		"GOLANG_VERSION=" + goVersion,
		"PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"GOPATH=/go",
		"HOME=/root",
		"GOTOOLCHAIN=local",
	}
	proxy, _ := exec.Command("go", "env", "GOPROXY").Output()
	if p := strings.TrimSpace(string(proxy)); p != "" {
		env = append(env, "GOPROXY="+p)
	}
	return env
}
