// Command gobuild builds a gobuild.yaml into an image without Docker: it
// runs the frontend in-process against BUILDKIT_HOST, or, when that is
// unset and it runs inside a gobuild checkout, against a local buildkitd
// and registry it starts itself (see internal/localbuildkit). The local daemons
// keep running for the next build, with their cache, until gobuild stop.
//
//	gobuild build [-f gobuild.yaml] [--platform p,...] [--build-arg K=V]
//	              [--build-context NAME=SRC] [--oci FILE] [--push REF]
//	              [--tlscacert F --tlscert F --tlskey F] [CONTEXT]
//	gobuild stop
//
// The local daemons' state is in $GOBUILD_LOCAL_DIR, by default
// gobuild/local in the user's cache directory (~/.cache/gobuild/local).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/gobuildkit/gobuild/internal/localbuildkit"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/appcontext"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/mod/modfile"
)

// Exit codes a script can rely on.
const (
	exitBuildFailed = 1
	exitUsage       = 2
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "stop" {
		if err := stopLocal(); err != nil {
			fmt.Fprintln(os.Stderr, "gobuild:", err)
			os.Exit(exitBuildFailed)
		}
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "build" {
		fmt.Fprintln(os.Stderr, "usage: gobuild build [flags] [CONTEXT] | gobuild stop; run 'gobuild build -h' for the flags")
		os.Exit(exitUsage)
	}
	opts, err := parseFlags(os.Args[2:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gobuild:", err)
		}
		os.Exit(exitUsage)
	}
	if err := run(appcontext.Context(), opts); err != nil {
		fmt.Fprintln(os.Stderr, "gobuild:", err)
		os.Exit(exitBuildFailed)
	}
}

type options struct {
	context   string
	file      string
	platform  string
	oci       string
	push      string
	buildArgs multiFlag
	contexts  multiFlag
	// TLS for a daemon reached over tcp://, as buildctl takes it.
	tlsCACert, tlsCert, tlsKey, tlsServerName string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("gobuild build", flag.ContinueOnError)
	fs.StringVar(&o.file, "f", "", "the spec file (default CONTEXT/gobuild.yaml)")
	fs.StringVar(&o.platform, "platform", "", "target platforms, comma-separated (default: the spec's platforms, else the build platform)")
	fs.StringVar(&o.oci, "oci", "", "write the image as an OCI layout tarball to this file")
	fs.StringVar(&o.push, "push", "", "push the image to this reference")
	fs.Var(&o.buildArgs, "build-arg", "KEY=VALUE build-arg, such as VERSION=v1.2.3 (repeatable)")
	fs.Var(&o.contexts, "build-context", "NAME=SOURCE named context, such as golang:1.26=docker-image://mirror/golang:1.26 (repeatable)")
	fs.StringVar(&o.tlsCACert, "tlscacert", "", "CA certificate that signed BUILDKIT_HOST's server certificate")
	fs.StringVar(&o.tlsCert, "tlscert", "", "client certificate for BUILDKIT_HOST (mutual TLS)")
	fs.StringVar(&o.tlsKey, "tlskey", "", "client key for BUILDKIT_HOST (mutual TLS)")
	fs.StringVar(&o.tlsServerName, "tlsservername", "", "server name to verify BUILDKIT_HOST's certificate against (default: its host)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, errors.New("--tlscert and --tlskey go together")
	}
	switch fs.NArg() {
	case 0:
		o.context = "."
	case 1:
		o.context = fs.Arg(0)
	default:
		return nil, fmt.Errorf("one build context expected, got %q", fs.Args())
	}
	if o.oci == "" && o.push == "" {
		return nil, errors.New("say where the image goes: --oci FILE or --push REF")
	}
	return o, nil
}

func run(ctx context.Context, o *options) error {
	attrs := map[string]string{}
	if o.platform != "" {
		attrs["platform"] = o.platform
	}
	for _, kv := range o.buildArgs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--build-arg %q: want KEY=VALUE", kv)
		}
		attrs["build-arg:"+k] = v
	}
	for _, kv := range o.contexts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--build-context %q: want NAME=SOURCE", kv)
		}
		attrs["context:"+k] = v
	}

	specPath := o.file
	if specPath == "" {
		specPath = filepath.Join(o.context, spec.DefaultFilename)
	}
	attrs["filename"] = filepath.Base(specPath)

	addr := os.Getenv("BUILDKIT_HOST")
	if addr == "" {
		local, err := startLocal(ctx)
		if err != nil {
			return fmt.Errorf("BUILDKIT_HOST is unset and a local BuildKit could not be started: %w", err)
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
		return err
	}
	defer c.Close()

	contextFS, err := fsutil.NewFS(o.context)
	if err != nil {
		return err
	}
	specFS, err := fsutil.NewFS(filepath.Dir(specPath))
	if err != nil {
		return err
	}
	var exports []client.ExportEntry
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

	display, err := progressui.NewDisplay(os.Stderr, progressui.AutoMode)
	if err != nil {
		return err
	}
	ch := make(chan *client.SolveStatus)
	done := make(chan error, 1)
	go func() {
		_, err := display.UpdateFrom(context.WithoutCancel(ctx), ch)
		done <- err
	}()
	resp, err := c.Build(ctx, client.SolveOpt{
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": contextFS, "dockerfile": specFS},
		Exports:       exports,
	}, "gobuild", frontend.Build, ch)
	<-done
	if err != nil {
		return err
	}
	if d := resp.ExporterResponse["containerimage.digest"]; d != "" {
		fmt.Fprintln(os.Stderr, "image digest:", d)
	}
	if o.oci != "" {
		fmt.Fprintln(os.Stderr, "OCI layout written to", o.oci)
	}
	return nil
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

// localDir is where the local daemons keep their state and build cache.
func localDir() (string, error) {
	if dir := os.Getenv("GOBUILD_LOCAL_DIR"); dir != "" {
		return dir, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "gobuild", "local"), nil
}

// startLocal returns the local buildkitd and registry, started by an
// earlier run or now. They keep running after this process, so the next
// build finds them warm.
func startLocal(ctx context.Context) (*localbuildkit.Daemons, error) {
	dir, err := localDir()
	if err != nil {
		return nil, err
	}
	if local, err := localbuildkit.Attach(ctx, dir); err == nil {
		fmt.Fprintf(os.Stderr, "gobuild: using the local buildkitd at %s (state in %s; 'gobuild stop' stops it)\n", local.Addr, dir)
		return local, nil
	}
	root, err := checkoutRoot()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "gobuild: starting a local buildkitd, state in %s; it keeps running for the next build ('gobuild stop' stops it)\n", dir)
	return localbuildkit.Start(ctx, localbuildkit.Options{
		ToolsDir: filepath.Join(root, "integration", "tools"),
		Dir:      dir,
		Detach:   true,
		Log:      func(format string, args ...any) { fmt.Fprintf(os.Stderr, "gobuild: "+format+"\n", args...) },
	})
}

// stopLocal stops the local daemons; their cache stays for the next start.
func stopLocal() error {
	dir, err := localDir()
	if err != nil {
		return err
	}
	stopped, err := localbuildkit.StopDetached(dir)
	if err != nil {
		return err
	}
	if stopped {
		fmt.Fprintln(os.Stderr, "gobuild: stopped the local buildkitd; its cache stays in", dir)
	} else {
		fmt.Fprintln(os.Stderr, "gobuild: no local buildkitd is running")
	}
	return nil
}

// checkoutRoot finds the gobuild checkout around the working directory:
// the local daemons are built from its pinned tools module.
func checkoutRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modfile.ModulePath(data) == "github.com/gobuildkit/gobuild" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside a gobuild checkout; set BUILDKIT_HOST to a running buildkitd")
		}
		dir = parent
	}
}
