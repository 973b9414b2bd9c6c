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
	"strings"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/moby/buildkit/client"
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
