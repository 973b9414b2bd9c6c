package llb

import (
	"maps"
	"os"
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
func imageConfig(s *spec.Spec, opt Options, target ocispecs.Platform, data spec.TemplateData, bins []Built) (*dockerspec.DockerOCIImage, error) {
	base := s.BaseFor(target)
	epoch := opt.epoch()
	img := &dockerspec.DockerOCIImage{}
	if opt.BaseImage != nil && base != spec.BaseStatic && base != spec.BaseScratch {
		img.Config = opt.BaseImage.Config
		img.History = slices.Clone(opt.BaseImage.History)
		img.Config.Env = slices.Clone(opt.BaseImage.Config.Env)
		img.Config.Labels = maps.Clone(opt.BaseImage.Config.Labels)
		img.Config.ExposedPorts = maps.Clone(opt.BaseImage.Config.ExposedPorts)
		img.Config.Volumes = maps.Clone(opt.BaseImage.Config.Volumes)
		// The base's entrypoint and command belong to the base's program.
		img.Config.Entrypoint, img.Config.Cmd = nil, nil
	}
	img.Created = &epoch
	img.Platform = ocispecs.Platform{OS: target.OS, Architecture: target.Architecture, Variant: target.Variant}
	img.RootFS.Type = "layers"

	env := envMap(img.Config.Env)
	if _, ok := env["PATH"]; !ok {
		env["PATH"] = defaultPath
	}
	if base == spec.BaseStatic && spec.BoolValue(s.Image.Tzdata, true) {
		env["ZONEINFO"] = ZoneinfoPath
	}
	imageEnv, err := renderMap(s, data, s.Image.Env, "image", "env")
	if err != nil {
		return nil, err
	}
	maps.Copy(env, imageEnv)
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
	for _, v := range s.Image.Volumes {
		if img.Config.Volumes == nil {
			img.Config.Volumes = map[string]struct{}{}
		}
		img.Config.Volumes[v] = struct{}{}
	}
	if s.Image.Stopsignal != "" {
		img.Config.StopSignal = s.Image.Stopsignal
	}
	if hc := s.Image.Healthcheck; hc != nil {
		img.Config.Healthcheck = &dockerspec.HealthcheckConfig{
			Test:        append([]string{"CMD"}, hc.Command...),
			Interval:    duration(hc.Interval),
			Timeout:     duration(hc.Timeout),
			StartPeriod: duration(hc.StartPeriod),
			Retries:     hc.Retries,
		}
	}

	labels, err := renderMap(s, data, s.Image.Labels, "image", "labels")
	if err != nil {
		return nil, err
	}
	img.Config.Labels = mergeLabels(img.Config.Labels, ociLabels(opt, data), labels)

	// One history entry per layer this frontend adds, dated by the epoch:
	// the exporter would otherwise stamp them with the wall clock.
	history := func(createdBy string) {
		img.History = append(img.History, ocispecs.History{Created: &epoch, CreatedBy: "gobuild: " + createdBy, Comment: "gobuild"})
	}
	if base == spec.BaseStatic {
		history("static base")
	}
	names := make([]string, 0, len(bins))
	for _, b := range bins {
		names = append(names, path.Join(spec.BinDir, b.Name))
	}
	history(strings.Join(names, " "))
	if len(s.Image.Files) > 0 {
		history("image.files")
	}
	return img, nil
}

// ociLabels are the org.opencontainers.image annotations gobuild knows.
func ociLabels(opt Options, data spec.TemplateData) map[string]string {
	l := map[string]string{"org.opencontainers.image.version": data.Version}
	if opt.Epoch != nil || opt.CommitTime != nil {
		// Without SOURCE_DATE_EPOCH or a commit, the only honest date is
		// none.
		l["org.opencontainers.image.created"] = data.Date
	}
	if opt.Commit != "" {
		l["org.opencontainers.image.revision"] = opt.Commit
	}
	if opt.Source != "" {
		l["org.opencontainers.image.source"] = opt.Source
	}
	return l
}

// mergeLabels layers label maps, later ones winning; nil when all are empty.
func mergeLabels(layers ...map[string]string) map[string]string {
	var out map[string]string
	for _, l := range layers {
		if len(l) == 0 {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		maps.Copy(out, l)
	}
	return out
}

func duration(s string) time.Duration {
	d, _ := time.ParseDuration(s) // validated by spec.Parse
	return d
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func fileMode(m int) os.FileMode { return os.FileMode(m) }
