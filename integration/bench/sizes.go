package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

type sizes struct {
	binary, compressed, uncompressed int64
}

// imageSizes builds the spec in dir for one platform and measures the
// exported image: its layers as stored (compressed) and unpacked, and the
// largest file in /usr/local/bin.
func (b *bench) imageSizes(ctx context.Context, dir, platform string) (sizes, error) {
	c, err := b.bed.Client(ctx)
	if err != nil {
		return sizes{}, err
	}
	defer c.Close()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return sizes{}, err
	}
	var buf bytes.Buffer
	_, err = c.Build(ctx, client.SolveOpt{
		FrontendAttrs: map[string]string{"platform": platform, "context:golang:1.26": "docker-image://" + b.bed.GoImage},
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		Exports: []client.ExportEntry{{Type: client.ExporterOCI, Attrs: map[string]string{},
			Output: func(map[string]string) (io.WriteCloser, error) { return nopWriteCloser{&buf}, nil }}},
	}, "gobuild", frontend.Build, nil)
	if err != nil {
		return sizes{}, err
	}
	blobs := map[string][]byte{}
	var index ocispecs.Index
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sizes{}, err
		}
		data, _ := io.ReadAll(tr)
		if hdr.Name == "index.json" {
			_ = json.Unmarshal(data, &index)
		} else if strings.HasPrefix(hdr.Name, "blobs/sha256/") {
			blobs["sha256:"+path.Base(hdr.Name)] = data
		}
	}
	if len(index.Manifests) != 1 {
		return sizes{}, fmt.Errorf("unexpected index: %d manifests", len(index.Manifests))
	}
	var manifest ocispecs.Manifest
	if err := json.Unmarshal(blobs[index.Manifests[0].Digest.String()], &manifest); err != nil {
		return sizes{}, err
	}
	var s sizes
	for _, l := range manifest.Layers {
		data := blobs[l.Digest.String()]
		s.compressed += int64(len(data))
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return sizes{}, err
		}
		ltr := tar.NewReader(zr)
		for {
			hdr, err := ltr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return sizes{}, err
			}
			s.uncompressed += hdr.Size
			if strings.HasPrefix(hdr.Name, "usr/local/bin/") && hdr.Size > s.binary {
				s.binary = hdr.Size
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
