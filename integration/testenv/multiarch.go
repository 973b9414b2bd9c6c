package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/internal/localbuildkit"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

// toolchainArch names Go's release builds for each platform.
var toolchainArch = map[string]string{
	"linux/amd64":   "linux-amd64",
	"linux/arm64":   "linux-arm64",
	"linux/arm/v7":  "linux-armv6l", // Go's 32-bit ARM release runs on v6 and up
	"linux/ppc64le": "linux-ppc64le",
	"linux/s390x":   "linux-s390x",
	"linux/riscv64": "linux-riscv64",
}

// PushMultiArchToolchain pushes ref as a multi-platform Go toolchain image
// holding, for each platform, the release of the host's Go version built
// for it (from the Go module proxy's golang.org/toolchain module) and the
// CA bundle. It has no shell: it is for Dockerfiles whose RUN steps use
// the exec form, run under emulation on the foreign platforms.
func (b *Bed) PushMultiArchToolchain(ctx context.Context, ref string, targets []string, logf func(string, ...any)) error {
	return b.PushToolchain(ctx, ref, b.GoVersion, targets, logf)
}

// PushToolchain is PushMultiArchToolchain for the Go release version, as
// golang:X images of older Go are for a module whose go.mod names one.
func (b *Bed) PushToolchain(ctx context.Context, ref, version string, targets []string, logf func(string, ...any)) error {
	localMounts := map[string]fsutil.FS{}
	certs, err := fsutil.NewFS(b.CertsDir())
	if err != nil {
		return err
	}
	localMounts["certs"] = certs
	for _, p := range targets {
		arch, ok := toolchainArch[p]
		if !ok {
			return fmt.Errorf("no Go release for %s", p)
		}
		logf("downloading Go %s for %s from the module proxy", version, p)
		dir, err := downloadToolchain(ctx, version, arch)
		if err != nil {
			return err
		}
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return err
		}
		localMounts["go-"+arch] = fs
	}

	// Under emulation the go command's executable may be the emulator, so
	// it cannot find its GOROOT by itself.
	env := append(localbuildkit.ToolchainEnv(version), "GOROOT=/usr/local/go")

	c, err := b.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Build(ctx, client.SolveOpt{
		LocalMounts: localMounts,
		Exports: []client.ExportEntry{{
			Type:  client.ExporterImage,
			Attrs: map[string]string{"name": ref, "push": "true", "registry.insecure": "true"},
		}},
	}, "toolchain", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		res := gateway.NewResult()
		var exp exptypes.Platforms
		for _, name := range targets {
			p := platforms.Normalize(platforms.MustParse(name))
			// The module cache keeps files read-only and without exec
			// bits; the image's toolchain needs both.
			st := llb.Scratch().File(
				llb.Copy(llb.Local("go-"+toolchainArch[name]), "/", "/usr/local/go", &llb.CopyInfo{
					CopyDirContentsOnly: true, CreateDestPath: true, Mode: &llb.ChmodOpt{Mode: 0o755},
				}).
					Mkdir("/etc/ssl/certs", 0o755, llb.WithParents(true)).
					Copy(llb.Local("certs"), "ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt").
					Mkdir("/tmp", 0o777).Mkdir("/root", 0o700).Mkdir("/go", 0o777),
				llb.WithCustomName("Go "+version+" for "+name))
			def, err := st.Marshal(ctx, llb.Platform(p))
			if err != nil {
				return nil, err
			}
			r, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
			if err != nil {
				return nil, err
			}
			ref, err := r.SingleRef()
			if err != nil {
				return nil, err
			}
			config, err := json.Marshal(ocispecs.Image{
				Platform: p,
				Config:   ocispecs.ImageConfig{Env: env, WorkingDir: "/go"},
				RootFS:   ocispecs.RootFS{Type: "layers"},
			})
			if err != nil {
				return nil, err
			}
			id := platforms.FormatAll(p)
			res.AddRef(id, ref)
			res.AddMeta(exptypes.ExporterImageConfigKey+"/"+id, config)
			exp.Platforms = append(exp.Platforms, exptypes.Platform{ID: id, Platform: p})
		}
		dt, err := json.Marshal(exp)
		if err != nil {
			return nil, err
		}
		res.AddMeta(exptypes.ExporterPlatformsKey, dt)
		return res, nil
	}, nil)
	return err
}

// downloadToolchain fetches Go's release for arch as a module and returns
// its directory in the module cache.
func downloadToolchain(ctx context.Context, version, arch string) (string, error) {
	mod := fmt.Sprintf("golang.org/toolchain@v0.0.1-go%s.%s", version, arch)
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	if _, err := os.Stat(filepath.Join(info.Dir, "bin", "go")); err != nil {
		return "", err
	}
	return info.Dir, nil
}
