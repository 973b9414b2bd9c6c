package llb

import (
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gobuildkit/gobuild/spec"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// imageConfig is the OCI config of one platform's image: the base image's
// config when there is one, with the spec's settings on top.
func imageConfig(s *spec.Spec, opt Options, target ocispecs.Platform, epoch time.Time) *dockerspec.DockerOCIImage {
	img := &dockerspec.DockerOCIImage{}
	if opt.BaseImage != nil && s.Image.Base != spec.BaseStatic && s.Image.Base != spec.BaseScratch {
		img.Config = opt.BaseImage.Config
		img.History = slices.Clone(opt.BaseImage.History)
		img.Config.Env = slices.Clone(opt.BaseImage.Config.Env)
		img.Config.Labels = maps.Clone(opt.BaseImage.Config.Labels)
		img.Config.ExposedPorts = maps.Clone(opt.BaseImage.Config.ExposedPorts)
	}
	img.Created = &epoch
	img.Platform = ocispecs.Platform{OS: target.OS, Architecture: target.Architecture, Variant: target.Variant}
	img.RootFS.Type = "layers"

	env := envMap(img.Config.Env)
	if _, ok := env["PATH"]; !ok {
		env["PATH"] = defaultPath
	}
	if s.Image.Base == spec.BaseStatic {
		env["ZONEINFO"] = ZoneinfoPath
	}
	maps.Copy(env, s.Image.Env)
	img.Config.Env = nil
	for _, k := range slices.Sorted(maps.Keys(env)) {
		img.Config.Env = append(img.Config.Env, k+"="+env[k])
	}

	img.Config.User = s.Image.User
	img.Config.Entrypoint = s.Image.Entrypoint
	img.Config.Cmd = s.Image.Cmd
	if s.Image.Workdir != "" {
		img.Config.WorkingDir = s.Image.Workdir
	}
	for _, p := range s.Image.Ports {
		if img.Config.ExposedPorts == nil {
			img.Config.ExposedPorts = map[string]struct{}{}
		}
		norm, _ := p.Normalize() // validated by spec.Parse
		img.Config.ExposedPorts[norm] = struct{}{}
	}
	if len(s.Image.Labels) > 0 && img.Config.Labels == nil {
		img.Config.Labels = map[string]string{}
	}
	maps.Copy(img.Config.Labels, s.Image.Labels)

	// One history entry per layer this frontend adds, dated by the epoch:
	// the exporter would otherwise stamp them with the wall clock.
	if s.Image.Base == spec.BaseStatic {
		img.History = append(img.History, ocispecs.History{Created: &epoch, CreatedBy: "gobuild: static base", Comment: "gobuild"})
	}
	names := make([]string, 0, len(s.Binaries))
	for _, b := range s.Binaries {
		names = append(names, path.Join(spec.BinDir, b.Name))
	}
	img.History = append(img.History, ocispecs.History{Created: &epoch, CreatedBy: "gobuild: " + strings.Join(names, " "), Comment: "gobuild"})
	return img
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
