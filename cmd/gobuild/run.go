package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/gobuildkit/gobuild/internal/localbuildkit"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
)

// run builds, or answers --call, and returns the exit code.
func run(ctx context.Context, o *options) (int, error) {
	attrs := o.attrs
	specPath := o.file
	if specPath == "" {
		specPath = filepath.Join(o.context, spec.DefaultFilename)
	}
	attrs["filename"] = filepath.Base(specPath)
	if _, ok := attrs["platform"]; !ok {
		if platforms := specPlatforms(specPath); platforms != "" {
			attrs["platform"] = platforms
		}
	}

	addr := os.Getenv("BUILDKIT_HOST")
	if addr == "" {
		local, err := startLocal(ctx)
		if err != nil {
			return 0, fmt.Errorf("BUILDKIT_HOST is unset and a local BuildKit could not be started: %w", err)
		}
		addr = local.Addr
		// The local daemons have no public registry behind them: serve the
		// golang image from the host's own toolchain unless the user chose
		// one.
		key := "context:golang:" + localbuildkit.MinorVersion(local.GoVersion)
		if _, ok := attrs[key]; !ok {
			attrs[key] = "docker-image://" + local.GoImage
		}
	}

	c, err := client.New(ctx, addr, o.clientOpts(addr)...)
	if err != nil {
		return 0, err
	}
	defer c.Close()

	contextFS, err := fsutil.NewFS(o.context)
	if err != nil {
		return 0, err
	}
	specFS, err := fsutil.NewFS(filepath.Dir(specPath))
	if err != nil {
		return 0, err
	}
	exports := o.exportEntries()

	display, err := progressui.NewDisplay(os.Stderr, o.progress)
	if err != nil {
		return 0, fmt.Errorf("--progress %s: %w", o.progress, err)
	}
	ch := make(chan *client.SolveStatus)
	done := make(chan error, 1)
	go func() {
		_, err := display.UpdateFrom(context.WithoutCancel(ctx), ch)
		done <- err
	}()
	// The frontend runs in this process: keep its result's metadata, where
	// a subrequest's answer is.
	var metadata map[string][]byte
	build := func(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
		res, err := frontend.Build(ctx, c)
		if res != nil {
			metadata = maps.Clone(res.Metadata)
		}
		return res, err
	}
	resp, err := c.Build(ctx, client.SolveOpt{
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": contextFS, "dockerfile": specFS},
		Exports:       exports,
		Session:       o.session,
		CacheExports:  o.cacheTo,
		CacheImports:  o.cacheFrom,
	}, "gobuild", build, ch)
	<-done
	if err != nil {
		return 0, err
	}
	if o.call != "" {
		return printCall(os.Stdout, o, metadata)
	}
	if d := resp.ExporterResponse["containerimage.digest"]; d != "" {
		fmt.Fprintln(os.Stderr, "image digest:", d)
	}
	if o.oci != "" {
		fmt.Fprintln(os.Stderr, "OCI layout written to", o.oci)
	}
	return 0, nil
}

// specPlatforms is the spec's platforms list, the CLI's default request:
// BuildKit builds what the client asks for, and a frontend that answered
// otherwise would make every client warn of a platform mismatch. A spec that
// does not parse gives none; the frontend then reports its errors at their
// lines.
func specPlatforms(specPath string) string {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return ""
	}
	s, err := spec.Parse(filepath.Base(specPath), data)
	if err != nil {
		return ""
	}
	return strings.Join(s.Platforms, ",")
}

// exportEntries are --oci, --push and --output's exports, the image ones
// with --annotation's attributes.
func (o *options) exportEntries() []client.ExportEntry {
	var exports []client.ExportEntry
	if o.call != "" {
		return nil
	}
	if o.oci != "" {
		exports = append(exports, client.ExportEntry{
			Type:   client.ExporterOCI,
			Attrs:  map[string]string{},
			Output: func(map[string]string) (io.WriteCloser, error) { return os.Create(o.oci) },
		})
	}
	if o.push != "" {
		exports = append(exports, client.ExportEntry{
			Type:  client.ExporterImage,
			Attrs: map[string]string{"name": o.push, "push": "true"},
		})
	}
	exports = append(exports, o.exports...)
	for i, e := range exports {
		switch e.Type {
		case client.ExporterImage, client.ExporterOCI, client.ExporterDocker:
			if e.Attrs == nil {
				exports[i].Attrs = map[string]string{}
			}
			maps.Copy(exports[i].Attrs, o.annotations)
		}
	}
	return exports
}

// clientOpts are the TLS settings for addr, if any were given.
func (o *options) clientOpts(addr string) []client.ClientOpt {
	var opts []client.ClientOpt
	if o.tlsCACert != "" {
		serverName := o.tlsServerName
		if serverName == "" {
			if u, err := url.Parse(addr); err == nil {
				serverName = u.Hostname()
			}
		}
		opts = append(opts, client.WithServerConfig(serverName, o.tlsCACert))
	}
	if o.tlsCert != "" {
		opts = append(opts, client.WithCredentials(o.tlsCert, o.tlsKey))
	}
	return opts
}
