package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client"
	buildctl "github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/moby/buildkit/util/progress/progressui"
)

type options struct {
	context  string
	file     string
	oci      string
	push     string
	progress progressui.DisplayMode
	// attrs are the frontend's options (platform, target, build-args,
	// named contexts, labels, a subrequest).
	attrs map[string]string
	// call is the subrequest's name (outline, targets, check), json its
	// format.
	call string
	json bool
	// exports from --output; annotations go to the image exporters.
	exports     []client.ExportEntry
	annotations map[string]string
	session     []session.Attachable
	cacheTo     []client.CacheOptionsEntry
	cacheFrom   []client.CacheOptionsEntry
	// TLS for a daemon reached over tcp://, as buildctl takes it.
	tlsCACert, tlsCert, tlsKey, tlsServerName string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// callRequests maps --call's names to the frontend's subrequest ids.
var callRequests = map[string]string{
	"outline": "frontend.outline",
	"targets": "frontend.targets",
	"check":   "frontend.lint",
}

func parseFlags(args []string) (*options, error) {
	o := &options{attrs: map[string]string{}, annotations: map[string]string{}}
	var platform, target, call, progress string
	var buildArgs, contexts, outputs, secrets, ssh, cacheTo, cacheFrom, labels, annotations multiFlag
	fs := flag.NewFlagSet("gobuild build", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.StringVar(&o.file, "f", "", "the spec file (default CONTEXT/gobuild.yaml)")
	fs.StringVar(&platform, "platform", "", "target platforms, comma-separated (default: the spec's platforms, else the build platform)")
	fs.StringVar(&target, "target", "", "the target to build (see --call targets; default: the image)")
	fs.StringVar(&o.oci, "oci", "", "write the image as an OCI layout tarball to this file")
	fs.StringVar(&o.push, "push", "", "push the image to this reference")
	fs.Var(&outputs, "output", "output as buildctl takes it, such as type=local,dest=DIR (repeatable)")
	fs.StringVar(&call, "call", "", "ask the frontend instead of building: outline, targets or check, with ,format=json for JSON")
	fs.StringVar(&progress, "progress", "auto", "progress output: auto, plain, tty or quiet")
	fs.Var(&buildArgs, "build-arg", "KEY=VALUE build-arg, such as VERSION=v1.2.3 (repeatable)")
	fs.Var(&contexts, "build-context", "NAME=SOURCE named context, such as golang:1.26=docker-image://mirror/golang:1.26 (repeatable)")
	fs.Var(&secrets, "secret", "secret for the build: id=ID,src=FILE or id=ID,env=VAR (repeatable)")
	fs.Var(&ssh, "ssh", "ssh agent or keys for the build: default or default=SOCKET|KEY (repeatable)")
	fs.Var(&cacheTo, "cache-to", "cache export as buildctl takes it, such as type=registry,ref=REF (repeatable)")
	fs.Var(&cacheFrom, "cache-from", "cache import as buildctl takes it, such as type=local,src=DIR (repeatable)")
	fs.Var(&labels, "label", "K=V image label, passed to the frontend as label:K (repeatable)")
	fs.Var(&annotations, "annotation", "K=V annotation for the image exporters (repeatable)")
	fs.StringVar(&o.tlsCACert, "tlscacert", "", "CA certificate that signed BUILDKIT_HOST's server certificate")
	fs.StringVar(&o.tlsCert, "tlscert", "", "client certificate for BUILDKIT_HOST (mutual TLS)")
	fs.StringVar(&o.tlsKey, "tlskey", "", "client key for BUILDKIT_HOST (mutual TLS)")
	fs.StringVar(&o.tlsServerName, "tlsservername", "", "server name to verify BUILDKIT_HOST's certificate against (default: its host)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gobuild build [flags] [CONTEXT]")
		fs.PrintDefaults()
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(os.Stdout)
			fs.Usage()
			return nil, flag.ErrHelp
		}
	}
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

	if platform != "" {
		o.attrs["platform"] = platform
	}
	if target != "" {
		o.attrs["target"] = target
	}
	for _, kv := range [...]struct {
		flag, want, prefix string
		values             []string
		into               map[string]string
	}{
		{"--build-arg", "KEY=VALUE", "build-arg:", buildArgs, o.attrs},
		{"--build-context", "NAME=SOURCE", "context:", contexts, o.attrs},
		{"--label", "KEY=VALUE", "label:", labels, o.attrs},
		{"--annotation", "KEY=VALUE", "annotation.", annotations, o.annotations},
	} {
		for _, v := range kv.values {
			k, val, ok := strings.Cut(v, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%s %q: want %s", kv.flag, v, kv.want)
			}
			kv.into[kv.prefix+k] = val
		}
	}

	if call != "" {
		name, format, _ := strings.Cut(call, ",")
		id, ok := callRequests[name]
		if !ok {
			return nil, fmt.Errorf("--call %q: want outline, targets or check", call)
		}
		switch format {
		case "":
		case "format=json":
			o.json = true
		default:
			return nil, fmt.Errorf("--call %q: the only format is format=json", call)
		}
		o.call, o.attrs["requestid"] = name, id
	}

	switch m := progressui.DisplayMode(progress); m {
	case progressui.AutoMode, progressui.PlainMode, progressui.TtyMode, progressui.QuietMode:
		o.progress = m
	default:
		return nil, fmt.Errorf("--progress %q: want auto, plain, tty or quiet", progress)
	}

	var err error
	if o.exports, err = buildctl.ParseOutput(outputs); err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	if len(secrets) > 0 {
		s, err := buildctl.ParseSecret(secrets)
		if err != nil {
			return nil, fmt.Errorf("--secret: %w", err)
		}
		o.session = append(o.session, s)
	}
	if len(ssh) > 0 {
		configs, err := buildctl.ParseSSH(ssh)
		if err != nil {
			return nil, fmt.Errorf("--ssh: %w", err)
		}
		agent, err := sshprovider.NewSSHAgentProvider(configs)
		if err != nil {
			return nil, fmt.Errorf("--ssh: %w", err)
		}
		o.session = append(o.session, agent)
	}
	if o.cacheTo, err = buildctl.ParseExportCache(cacheTo); err != nil {
		return nil, fmt.Errorf("--cache-to: %w", err)
	}
	if o.cacheFrom, err = buildctl.ParseImportCache(cacheFrom); err != nil {
		return nil, fmt.Errorf("--cache-from: %w", err)
	}

	if o.call == "" && o.oci == "" && o.push == "" && len(o.exports) == 0 {
		return nil, errors.New("say where the build goes: --oci FILE, --push REF or --output type=local,dest=DIR")
	}
	return o, nil
}
