package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	gbllb "github.com/gobuildkit/gobuild/llb"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"
)

// pushFrontends pushes the two frontend images the "# syntax=" tools
// name: BuildKit's Dockerfile frontend at the version the bed's daemon
// runs (C′), and gobuild's (A′), each built on the host and configured as
// their images are. Behind a "# syntax=" line BuildKit starts a frontend
// container, which the daemon's built-in Dockerfile frontend and the
// in-process gobuild (A) skip.
func (b *bench) pushFrontends(ctx context.Context) error {
	var err error
	b.dockerfileRef, err = b.pushFrontend(ctx, "dockerfile", nil, hostBinary{"integration/tools", []string{"github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend"}, "/bin/frontend"})
	if err != nil {
		return err
	}
	// As the repository's Dockerfile labels the gobuild image and puts the
	// helper in it.
	b.gobuildRef, err = b.pushFrontend(ctx, "gobuild", map[string]string{
		"moby.buildkit.frontend.network.none": "true",
		"moby.buildkit.frontend.caps":         "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts",
	},
		hostBinary{".", []string{"./cmd/gobuild-frontend"}, "/bin/frontend"},
		hostBinary{"llb/helper", gbllb.HelperSourceFiles, gbllb.PrebuiltHelperDir + "/gobuild-helper"})
	return err
}

// hostBinary is a program go builds on the host (from what, in dir) into
// an image at path.
type hostBinary struct {
	dir  string
	what []string
	path string
}

// pushFrontend builds the binaries on the host and pushes them as the
// image REGISTRY/name:bench whose entrypoint is the first.
func (b *bench) pushFrontend(ctx context.Context, name string, labels map[string]string, binaries ...hostBinary) (string, error) {
	dir, err := os.MkdirTemp("", "gobuild-bench-frontend-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	st := llb.Scratch()
	for i, bin := range binaries {
		file := fmt.Sprintf("bin%d", i)
		build := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-o", filepath.Join(dir, file)}, bin.what...)...)
		build.Dir = bin.dir
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("building %s: %v\n%s", bin.what, err, out)
		}
		st = st.File(llb.Copy(llb.Local("bin"), file, bin.path, &llb.CopyInfo{CreateDestPath: true}))
	}
	def, err := st.Marshal(ctx, llb.LinuxAmd64)
	if err != nil {
		return "", err
	}
	config, err := json.Marshal(map[string]any{
		"os":           "linux",
		"architecture": runtime.GOARCH,
		"config":       map[string]any{"Entrypoint": []string{binaries[0].path}, "Labels": labels},
		"rootfs":       map[string]any{"type": "layers"},
	})
	if err != nil {
		return "", err
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return "", err
	}
	c, err := client.New(ctx, b.bed.Addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	ref := b.bed.Registry + "/" + name + ":bench"
	_, err = c.Solve(ctx, def, client.SolveOpt{
		LocalMounts: map[string]fsutil.FS{"bin": fs},
		Exports: []client.ExportEntry{{
			Type: client.ExporterImage,
			Attrs: map[string]string{
				"name":                  ref,
				"push":                  "true",
				"registry.insecure":     "true",
				"containerimage.config": string(config),
			},
		}},
	}, nil)
	return ref, err
}
