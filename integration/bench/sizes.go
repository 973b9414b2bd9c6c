package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/gobuildkit/gobuild/integration/testenv"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/tonistiigi/fsutil"
)

type sizes struct {
	binary, compressed, uncompressed int64
}

// imageSizes builds the spec in dir for one platform and measures the
// exported image: its layers as stored (compressed) and unpacked, and the
// largest file in /usr/local/bin.
func (b *bench) imageSizes(ctx context.Context, dir, platform string) (sizes, error) {
	res, err := b.bed.Build(ctx, dir, testenv.BuildOpts{Attrs: map[string]string{"platform": platform}})
	if err != nil {
		return sizes{}, err
	}
	images, err := res.Layout.Images()
	if err != nil {
		return sizes{}, err
	}
	if len(images) != 1 {
		return sizes{}, fmt.Errorf("unexpected layout: %d images", len(images))
	}
	var s sizes
	for _, img := range images {
		s.compressed, s.uncompressed = img.CompressedSize, img.UncompressedSize
		for name, f := range img.Files {
			if strings.HasPrefix(name, "/usr/local/bin/") && f.Hdr.Size > s.binary {
				s.binary = f.Hdr.Size
			}
		}
	}
	return s, nil
}

// pushDistrolessLike pushes an image with what distroless's static image
// holds (time zone files, the CA bundle, passwd and group with nonroot,
// netbase's services and protocols), taken from this Debian host, to
// compare the bases' weight.
func (b *bench) pushDistrolessLike(ctx context.Context) (string, error) {
	ref := b.bed.Registry + "/distroless-like:nonroot"
	c, err := b.bed.Client(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	host := map[string]string{"zoneinfo": "/usr/share/zoneinfo", "certs": "/etc/ssl/certs", "etc": "/etc"}
	mounts := map[string]fsutil.FS{}
	for name, dir := range host {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return "", err
		}
		mounts[name] = fs
	}
	st := llb.Scratch().File(
		llb.Mkdir("/etc/ssl/certs", 0o755, llb.WithParents(true)).
			Mkdir("/usr/share", 0o755, llb.WithParents(true)).
			Copy(llb.Local("zoneinfo"), "/", "/usr/share/zoneinfo", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}).
			Copy(llb.Local("certs", llb.FollowPaths([]string{"ca-certificates.crt"})), "ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt").
			Copy(llb.Local("etc", llb.FollowPaths([]string{"services", "protocols"})), "/", "/etc", &llb.CopyInfo{CopyDirContentsOnly: true, IncludePatterns: []string{"services", "protocols"}}).
			Mkfile("/etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")).
			Mkfile("/etc/group", 0o644, []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")).
			Mkdir("/home/nonroot", 0o700, llb.WithParents(true), llb.WithUIDGID(65532, 65532)).
			Mkdir("/tmp", 0o1777))
	def, err := st.Marshal(ctx, llb.LinuxAmd64)
	if err != nil {
		return "", err
	}
	config := fmt.Sprintf(`{"os":"linux","architecture":%q,"config":{"User":"65532"},"rootfs":{"type":"layers"}}`, runtime.GOARCH)
	_, err = c.Solve(ctx, def, client.SolveOpt{
		LocalMounts: mounts,
		Exports: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{
			"name": ref, "push": "true", "registry.insecure": "true", "containerimage.config": config,
		}}},
	}, nil)
	return ref, err
}
