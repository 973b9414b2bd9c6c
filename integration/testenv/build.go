package testenv

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	digest "github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
)

// BuildOpts describe one build of a spec directory.
type BuildOpts struct {
	// Attrs are frontend options (build-arg:X, platform, ...).
	Attrs map[string]string
	// Frontend is "" to run gobuild in-process, or a frontend BuildKit
	// knows by name, such as "dockerfile.v0".
	Frontend string
	// Secrets are offered to the build by id (--secret).
	Secrets map[string][]byte
	// LocalOutput, when set, exports the result as files into this
	// directory (--output type=local) instead of an OCI layout.
	LocalOutput string
	// Addr and ClientOpts pick another daemon than the bed's.
	Addr       string
	ClientOpts []client.ClientOpt
	// CacheExports and CacheImports are --cache-to and --cache-from.
	CacheExports, CacheImports []client.CacheOptionsEntry
}

// BuildResult is what a build left: its OCI layout and its progress.
type BuildResult struct {
	// Layout is the exported image; nil with LocalOutput or an error.
	Layout   *Layout
	Vertices []*client.Vertex
	// Statuses are the steps' progress reports, such as the bytes of a
	// context transferred so far.
	Statuses []*client.VertexStatus
	// Warnings are what the frontend warned the client of.
	Warnings []*client.VertexWarning
	// Logs is everything the build's steps printed.
	Logs []byte
	// stepLogs is what each step printed, by its digest.
	stepLogs map[digest.Digest][]byte
}

// StepLog is what the step with that name printed.
func (r *BuildResult) StepLog(name string) ([]byte, error) {
	v, err := r.Vertex(name)
	if err != nil {
		return nil, err
	}
	return r.stepLogs[v.Digest], nil
}

// Vertex returns the last reported state of the step with that name.
func (r *BuildResult) Vertex(name string) (*client.Vertex, error) {
	var found *client.Vertex
	for _, v := range r.Vertices {
		if v.Name == name {
			found = v
		}
	}
	if found == nil {
		var names []string
		for _, v := range r.Vertices {
			names = append(names, v.Name)
		}
		return nil, fmt.Errorf("no step named %q; steps: %q", name, names)
	}
	return found, nil
}

// goContext points the default builder image at the bed's toolchain
// image, the way a user redirects it to a mirror.
func (b *Bed) goContext() map[string]string {
	return map[string]string{"context:golang:1.26": "docker-image://" + b.GoImage}
}

// Build builds the spec in dir and returns the exported OCI layout (the
// result is returned, with its progress, even when the build failed).
func (b *Bed) Build(ctx context.Context, dir string, opt BuildOpts) (*BuildResult, error) {
	c, err := client.New(ctx, cmp.Or(opt.Addr, b.Addr), opt.ClientOpts...)
	if err != nil {
		return nil, err
	}
	defer c.Close()

	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	attrs := b.goContext()
	maps.Copy(attrs, opt.Attrs)

	var ociTar bytes.Buffer
	solveOpt := client.SolveOpt{
		Frontend:      opt.Frontend,
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		Session:       []session.Attachable{secretsprovider.FromMap(opt.Secrets)},
		CacheExports:  opt.CacheExports,
		CacheImports:  opt.CacheImports,
	}
	if opt.LocalOutput != "" {
		solveOpt.Exports = []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: opt.LocalOutput}}
	} else {
		solveOpt.Exports = []client.ExportEntry{{
			Type:   client.ExporterOCI,
			Attrs:  map[string]string{},
			Output: func(map[string]string) (io.WriteCloser, error) { return nopCloser{&ociTar}, nil },
		}}
	}

	ch := make(chan *client.SolveStatus)
	var (
		vertices []*client.Vertex
		statuses []*client.VertexStatus
		warnings []*client.VertexWarning
		logs     bytes.Buffer
		stepLogs = map[digest.Digest][]byte{}
	)
	var wg sync.WaitGroup
	wg.Go(func() {
		for st := range ch {
			vertices = append(vertices, st.Vertexes...)
			statuses = append(statuses, st.Statuses...)
			warnings = append(warnings, st.Warnings...)
			for _, l := range st.Logs {
				logs.Write(l.Data)
				stepLogs[l.Vertex] = append(stepLogs[l.Vertex], l.Data...)
			}
		}
	})
	if opt.Frontend == "" {
		_, err = c.Build(ctx, solveOpt, "gobuild", frontend.Build, ch)
	} else {
		_, err = c.Solve(ctx, nil, solveOpt, ch)
	}
	wg.Wait()
	res := &BuildResult{Vertices: vertices, Statuses: statuses, Warnings: warnings, Logs: logs.Bytes(), stepLogs: stepLogs}
	if err != nil || opt.LocalOutput != "" {
		return res, err
	}
	if res.Layout, err = ReadLayout(ociTar.Bytes()); err != nil {
		return nil, err
	}
	return res, nil
}

// Call runs a subrequest (buildx --call) against the spec in dir and
// returns its JSON answer.
func (b *Bed) Call(ctx context.Context, dir, request string) ([]byte, error) {
	c, err := b.Client(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	attrs := b.goContext()
	attrs["requestid"] = request
	var answer []byte
	_, err = c.Build(ctx, client.SolveOpt{
		FrontendAttrs: attrs,
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
