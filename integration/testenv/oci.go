package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layout is an exported OCI image layout, read into memory.
type Layout struct {
	Blobs map[digest.Digest][]byte
	Index ocispecs.Index
}

// Image is one platform's image of a layout, with its files unpacked.
type Image struct {
	Layout   *Layout
	Desc     ocispecs.Descriptor
	Manifest ocispecs.Manifest
	Config   dockerspec.DockerOCIImage
	// Files are the image's files by absolute path, the last layer's
	// version of each.
	Files map[string]*File
	// CompressedSize is the size of its layers as stored and pulled;
	// UncompressedSize the sum of the sizes of every layer's entries.
	CompressedSize, UncompressedSize int64
}

// File is one entry of an image's layers.
type File struct {
	Hdr  *tar.Header
	Data []byte
}

// ReadLayout reads an OCI layout tarball of one image or image index.
func ReadLayout(tarball []byte) (*Layout, error) {
	l := &Layout{Blobs: map[digest.Digest][]byte{}}
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
			if err := json.Unmarshal(data, &l.Index); err != nil {
				return nil, err
			}
		case strings.HasPrefix(hdr.Name, "blobs/sha256/"):
			l.Blobs[digest.Digest("sha256:"+path.Base(hdr.Name))] = data
		}
	}
	if len(l.Index.Manifests) != 1 {
		return nil, fmt.Errorf("index.json has %d entries, want 1", len(l.Index.Manifests))
	}
	return l, nil
}

// Top is the descriptor the layout exports: an image index for a
// multi-platform build, else a manifest.
func (l *Layout) Top() ocispecs.Descriptor { return l.Index.Manifests[0] }

// Blob decodes the JSON blob d into v, checking its digest.
func (l *Layout) Blob(d digest.Digest, v any) error {
	data, ok := l.Blobs[d]
	if !ok {
		return fmt.Errorf("blob %s missing from the layout", d)
	}
	if digest.FromBytes(data) != d {
		return fmt.Errorf("blob %s does not match its digest", d)
	}
	return json.Unmarshal(data, v)
}

// Images returns every platform's image, keyed by "os/arch[/variant]".
func (l *Layout) Images() (map[string]*Image, error) {
	top := l.Top()
	descs := []ocispecs.Descriptor{top}
	if top.MediaType == ocispecs.MediaTypeImageIndex {
		var idx ocispecs.Index
		if err := l.Blob(top.Digest, &idx); err != nil {
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
	out := map[string]*Image{}
	for _, d := range descs {
		img := &Image{Layout: l, Desc: d, Files: map[string]*File{}}
		if err := l.Blob(d.Digest, &img.Manifest); err != nil {
			return nil, err
		}
		if err := l.Blob(img.Manifest.Config.Digest, &img.Config); err != nil {
			return nil, err
		}
		for _, layer := range img.Manifest.Layers {
			if err := img.unpack(layer); err != nil {
				return nil, err
			}
		}
		p := img.Config.Platform
		key := p.OS + "/" + p.Architecture
		if p.Variant != "" {
			key += "/" + p.Variant
		}
		out[key] = img
	}
	return out, nil
}

func (img *Image) unpack(layer ocispecs.Descriptor) error {
	data, ok := img.Layout.Blobs[layer.Digest]
	if !ok {
		return fmt.Errorf("layer %s missing", layer.Digest)
	}
	img.CompressedSize += int64(len(data))
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
		img.UncompressedSize += hdr.Size
		name := "/" + strings.TrimSuffix(strings.TrimPrefix(path.Clean("/"+hdr.Name), "/"), "/")
		img.Files[name] = &File{Hdr: hdr, Data: body}
	}
}

// Statement is an in-toto statement of an attestation manifest.
type Statement struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	Predicate json.RawMessage `json:"predicate"`
	// Raw is the statement as stored.
	Raw []byte `json:"-"`
}

// Attestations returns the in-toto statements attached to each platform's
// image of a multi-platform layout, keyed as Images keys the images.
func (l *Layout) Attestations() (map[string][]Statement, error) {
	var idx ocispecs.Index
	if err := l.Blob(l.Top().Digest, &idx); err != nil {
		return nil, err
	}
	platformOf := map[string]string{}
	for _, d := range idx.Manifests {
		if d.Platform != nil && d.Annotations["vnd.docker.reference.type"] == "" {
			key := d.Platform.OS + "/" + d.Platform.Architecture
			if d.Platform.Variant != "" {
				key += "/" + d.Platform.Variant
			}
			platformOf[d.Digest.String()] = key
		}
	}
	out := map[string][]Statement{}
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		key, ok := platformOf[d.Annotations["vnd.docker.reference.digest"]]
		if !ok {
			return nil, fmt.Errorf("attestation manifest %s refers to no image of the layout", d.Digest)
		}
		var m ocispecs.Manifest
		if err := l.Blob(d.Digest, &m); err != nil {
			return nil, err
		}
		for _, layer := range m.Layers {
			var st Statement
			if err := l.Blob(layer.Digest, &st); err != nil {
				return nil, err
			}
			st.Raw = l.Blobs[layer.Digest]
			out[key] = append(out[key], st)
		}
	}
	return out, nil
}
