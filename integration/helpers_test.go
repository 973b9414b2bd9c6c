package integration

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
)

// buildOpts describe one build of a spec directory.
type buildOpts struct {
	// attrs are frontend options (build-arg:X, platform, ...).
	attrs map[string]string
	// frontend is "" to run gobuild in-process, or a frontend BuildKit
	// knows by name, such as "dockerfile.v0".
	frontend string
	// secrets are offered to the build by id (--secret).
	secrets map[string][]byte
	// localOutput, when set, exports the result as files into this
	// directory (--output type=local) instead of an OCI layout.
	localOutput string
	// addr and clientOpts pick another daemon than the bed's.
	addr       string
	clientOpts []client.ClientOpt
	// cacheExports and cacheImports are --cache-to and --cache-from.
	cacheExports, cacheImports []client.CacheOptionsEntry
}

// buildResult is what a build left: its OCI layout and its progress.
type buildResult struct {
	layout   *ociLayout
	vertices []*client.Vertex
	// logs is everything the build's steps printed.
	logs []byte
}

// vertex returns the last reported state of the step with that name.
func (r *buildResult) vertex(t *testing.T, name string) *client.Vertex {
	t.Helper()
	var found *client.Vertex
	for _, v := range r.vertices {
		if v.Name == name {
			found = v
		}
	}
	if found == nil {
		var names []string
		for _, v := range r.vertices {
			names = append(names, v.Name)
		}
		t.Fatalf("no step named %q; steps: %q", name, names)
	}
	return found
}

// build runs a build of the spec in dir against the test bed and returns
// the exported OCI layout.
func build(ctx context.Context, dir string, opt buildOpts) (*buildResult, error) {
	addr := cmp.Or(opt.addr, bed.Addr)
	c, err := client.New(ctx, addr, opt.clientOpts...)
	if err != nil {
		return nil, err
	}
	defer c.Close()

	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{
		// Point the default builder at the bed's toolchain image, the way
		// a user redirects it to a mirror.
		"context:golang:1.26": "docker-image://" + bed.GoImage,
	}
	maps.Copy(attrs, opt.attrs)

	var ociTar bytes.Buffer
	solveOpt := client.SolveOpt{
		Frontend:      opt.frontend,
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		Session:       []session.Attachable{secretsprovider.FromMap(opt.secrets)},
		CacheExports:  opt.cacheExports,
		CacheImports:  opt.cacheImports,
	}
	if opt.localOutput != "" {
		solveOpt.Exports = []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: opt.localOutput}}
	} else {
		solveOpt.Exports = []client.ExportEntry{{
			Type:   client.ExporterOCI,
			Attrs:  map[string]string{},
			Output: func(map[string]string) (io.WriteCloser, error) { return nopCloser{&ociTar}, nil },
		}}
	}

	ch := make(chan *client.SolveStatus)
	var vertices []*client.Vertex
	var logs bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() {
		for st := range ch {
			vertices = append(vertices, st.Vertexes...)
			for _, l := range st.Logs {
				logs.Write(l.Data)
			}
		}
	})
	if opt.frontend == "" {
		_, err = c.Build(ctx, solveOpt, "gobuild", frontend.Build, ch)
	} else {
		_, err = c.Solve(ctx, nil, solveOpt, ch)
	}
	wg.Wait()
	res := &buildResult{vertices: vertices, logs: logs.Bytes()}
	if err != nil || opt.localOutput != "" {
		return res, err
	}
	if res.layout, err = readOCILayout(ociTar.Bytes()); err != nil {
		return nil, err
	}
	return res, nil
}

// call runs a subrequest (buildx --call) against the spec in dir and
// returns its JSON answer.
func call(ctx context.Context, dir, request string) ([]byte, error) {
	c, err := bed.Client(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	var answer []byte
	_, err = c.Build(ctx, client.SolveOpt{
		FrontendAttrs: map[string]string{"requestid": request, "context:golang:1.26": "docker-image://" + bed.GoImage},
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
	}, "gobuild", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		res, err := frontend.Build(ctx, c)
		if err != nil {
			return nil, err
		}
		answer = res.Metadata["result.json"]
		return res, nil
	}, nil)
	return answer, err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// copyDir copies a test module into a fresh directory the test may change.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// ociLayout is an exported OCI image layout, read into memory.
type ociLayout struct {
	blobs map[digest.Digest][]byte
	index ocispecs.Index
}

// image is one platform's image of a layout, with its files unpacked.
type image struct {
	layout   *ociLayout
	desc     ocispecs.Descriptor
	manifest ocispecs.Manifest
	config   dockerspec.DockerOCIImage
	files    map[string]*file
}

type file struct {
	hdr  *tar.Header
	data []byte
}

func readOCILayout(tarball []byte) (*ociLayout, error) {
	l := &ociLayout{blobs: map[digest.Digest][]byte{}}
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		switch {
		case hdr.Name == "index.json":
			if err := json.Unmarshal(data, &l.index); err != nil {
				return nil, err
			}
		case strings.HasPrefix(hdr.Name, "blobs/sha256/"):
			l.blobs[digest.Digest("sha256:"+path.Base(hdr.Name))] = data
		}
	}
	if len(l.index.Manifests) != 1 {
		return nil, fmt.Errorf("index.json has %d entries, want 1", len(l.index.Manifests))
	}
	return l, nil
}

// top is the descriptor the layout exports: an image index for a
// multi-platform build, else a manifest.
func (l *ociLayout) top() ocispecs.Descriptor { return l.index.Manifests[0] }

func (l *ociLayout) blob(d digest.Digest, v any) error {
	data, ok := l.blobs[d]
	if !ok {
		return fmt.Errorf("blob %s missing from the layout", d)
	}
	if digest.FromBytes(data) != d {
		return fmt.Errorf("blob %s does not match its digest", d)
	}
	return json.Unmarshal(data, v)
}

// images returns every platform's image, keyed by "os/arch[/variant]".
func (l *ociLayout) images() (map[string]*image, error) {
	top := l.top()
	descs := []ocispecs.Descriptor{top}
	if top.MediaType == ocispecs.MediaTypeImageIndex {
		var idx ocispecs.Index
		if err := l.blob(top.Digest, &idx); err != nil {
			return nil, err
		}
		descs = nil
		for _, d := range idx.Manifests {
			// Attestation manifests are not images.
			if d.Annotations["vnd.docker.reference.type"] == "" {
				descs = append(descs, d)
			}
		}
	}
	out := map[string]*image{}
	for _, d := range descs {
		img := &image{layout: l, desc: d, files: map[string]*file{}}
		if err := l.blob(d.Digest, &img.manifest); err != nil {
			return nil, err
		}
		if err := l.blob(img.manifest.Config.Digest, &img.config); err != nil {
			return nil, err
		}
		for _, layer := range img.manifest.Layers {
			if err := l.unpack(layer, img.files); err != nil {
				return nil, err
			}
		}
		p := img.config.Platform
		key := p.OS + "/" + p.Architecture
		if p.Variant != "" {
			key += "/" + p.Variant
		}
		out[key] = img
	}
	return out, nil
}

func (l *ociLayout) unpack(layer ocispecs.Descriptor, files map[string]*file) error {
	data, ok := l.blobs[layer.Digest]
	if !ok {
		return fmt.Errorf("layer %s missing", layer.Digest)
	}
	var r io.Reader = bytes.NewReader(data)
	if strings.HasSuffix(layer.MediaType, "gzip") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		name := "/" + strings.TrimSuffix(strings.TrimPrefix(path.Clean("/"+hdr.Name), "/"), "/")
		files[name] = &file{hdr: hdr, data: body}
	}
}

// writeExecutable puts a binary from an image on disk to run it.
func writeExecutable(t *testing.T, f *file) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), path.Base(f.hdr.Name))
	if err := os.WriteFile(p, f.data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
