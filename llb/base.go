package llb

import (
	"fmt"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// What the static base takes from the builder image: the CA bundle here,
// and the time zone database from DefaultGoroot's lib/time.
const (
	caBundle = "/etc/ssl/certs/ca-certificates.crt"
	// ZoneinfoPath is where the static base puts Go's time zone database;
	// the image's ZONEINFO variable points Go programs at it.
	ZoneinfoPath = "/usr/share/zoneinfo.zip"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// imageLayers is the image's file system: its base (the static base, an
// image, or nothing for scratch), the binaries, image.files, and the
// directories the image's user writes to.
func imageLayers(s *spec.Spec, opt Options, target ocispecs.Platform, bins []Built) (bkllb.State, error) {
	epoch := opt.epoch()
	var layers []bkllb.State
	switch base := s.BaseFor(target); base {
	case spec.BaseStatic:
		layers = append(layers, StaticBase(opt.Builder, epoch, s.Image))
	case spec.BaseScratch:
	default:
		if opt.Base == nil {
			return bkllb.State{}, fmt.Errorf("base image %q for %s was not resolved", base, platforms.Format(target))
		}
		layers = append(layers, *opt.Base)
	}
	layers = append(layers, binariesLayers(bins, opt, target)...)
	if len(s.Image.Files) > 0 {
		files, err := filesLayer(s, opt.Context, epoch)
		if err != nil {
			return bkllb.State{}, err
		}
		layers = append(layers, files)
	}
	dirs, ok, err := dirsLayer(s, epoch)
	if err != nil {
		return bkllb.State{}, err
	}
	if ok {
		layers = append(layers, dirs)
	}
	if len(layers) == 1 {
		return layers[0], nil
	}
	// A merge keeps each layer byte-identical across images and
	// platforms, so registries and caches store the base once.
	return bkllb.Merge(layers, bkllb.WithCustomName("assemble image ("+platforms.Format(target)+")")), nil
}

// StaticBase is the default base layer: what a static Go program expects of
// a system (users, CA certificates, time zones, /tmp) and nothing else. It
// needs no image pull and is the same for every platform. img, defaults
// filled, says which of the CA bundle and time zones it has.
func StaticBase(builder bkllb.State, epoch time.Time, img spec.Image) bkllb.State {
	// Mkdir drops the sticky bit, so /tmp is made aside (in the same file
	// op) and copied with an explicit mode.
	tmp := bkllb.Mkdir("/tmp", 0o755).WithState(bkllb.Scratch())
	parents := bkllb.WithParents(true)
	fa := bkllb.Mkdir("/etc", 0o755).
		Mkfile("/etc/passwd", 0o644, []byte(passwd)).
		Mkfile("/etc/group", 0o644, []byte(group))
	var parts []string
	if *img.Cacerts {
		fa = fa.Mkdir("/etc/ssl/certs", 0o755, parents).
			Copy(builder, caBundle, caBundle, &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o644}})
		parts = append(parts, "CA certificates")
	}
	if *img.Tzdata {
		fa = fa.Mkdir("/usr/share", 0o755, parents).
			Copy(builder, path.Join(DefaultGoroot, "lib/time/zoneinfo.zip"), ZoneinfoPath, &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o644}})
		parts = append(parts, "time zones")
	}
	if img.ZoneinfoTree {
		fa = fa.Copy(zoneinfoTree(builder), "/", zoneinfoTreeDir, &bkllb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true})
		parts = append(parts, "zoneinfo tree")
	}
	fa = fa.Mkdir("/home/nonroot", 0o700, parents, bkllb.WithUIDGID(65532, 65532)).
		Copy(tmp, "/tmp", "/tmp", &bkllb.CopyInfo{Mode: &bkllb.ChmodOpt{Mode: 0o1777}})
	return stamped(fa, epoch, "static base ("+strings.Join(append([]string{"passwd"}, parts...), ", ")+")")
}

const passwd = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`

const group = `root:x:0:
nobody:x:65534:
nonroot:x:65532:
`

// maxBinaryLayers bounds the binaries' layers of an image: past it, they
// are copied into one, so that a monorepo's many go builds do not near a
// runtime's limit on layers (overlayfs stacks some 120).
const maxBinaryLayers = 16

// binariesLayers are the image's binaries, a layer per go build: its
// output, where the binaries are in place and dated at the Unix epoch
// already, or a copy dated at SOURCE_DATE_EPOCH when one is set. A layer
// per go build also lets a push of an image where one binary changed send
// only that binary's layer.
func binariesLayers(bins []Built, opt Options, target ocispecs.Platform) []bkllb.State {
	var layers []bkllb.State
	for _, layer := range binaryLayerContents(bins) {
		builds := byGoBuild(layer)
		if len(builds) > 1 {
			var fa *bkllb.FileAction
			for _, built := range builds {
				info := &bkllb.CopyInfo{CopyDirContentsOnly: true}
				if fa == nil {
					fa = bkllb.Copy(built[0].State, "/", "/", info)
				} else {
					fa = fa.Copy(built[0].State, "/", "/", info)
				}
			}
			layers = append(layers, stamped(fa, opt.epoch(), "copy binaries ("+platforms.Format(target)+")"))
			continue
		}
		st := layer[0].State
		if opt.Epoch != nil {
			st = bkllb.Scratch().File(
				bkllb.Copy(st, "/", "/", &bkllb.CopyInfo{CopyDirContentsOnly: true, CreatedTime: opt.Epoch}),
				bkllb.WithCustomName("date "+strings.Join(binaryFiles(layer), " ")+" ("+platforms.Format(target)+")"),
			)
		}
		layers = append(layers, st)
	}
	return layers
}

// binaryLayerContents groups bins by the image layer that holds them: one
// per go build, or all in one past maxBinaryLayers.
func binaryLayerContents(bins []Built) [][]Built {
	builds := byGoBuild(bins)
	if len(builds) > maxBinaryLayers {
		return [][]Built{bins}
	}
	return builds
}

// binaryFiles are the paths of bins in the image.
func binaryFiles(bins []Built) []string {
	files := make([]string, 0, len(bins))
	for _, b := range bins {
		files = append(files, b.File)
	}
	return files
}

// byGoBuild groups bins by the go build that made them, in the order of
// each go build's first binary.
func byGoBuild(bins []Built) [][]Built {
	var groups [][]Built
	index := map[int]int{}
	for _, b := range bins {
		g, ok := index[b.build]
		if !ok {
			g = len(groups)
			index[b.build] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], b)
	}
	return groups
}

// filesLayer copies image.files from the context, with their owners and
// modes, into a layer of their own. The parents of each dst are made
// first, root's 0755: a copy would make them with its owner and mode.
func filesLayer(s *spec.Spec, context bkllb.State, epoch time.Time) (bkllb.State, error) {
	dsts := make([]string, 0, len(s.Image.Files))
	for _, f := range s.Image.Files {
		dsts = append(dsts, f.Dst)
	}
	made := parents(dsts)
	fa := mkdirs(nil, made, parentMeta)
	for i, f := range s.Image.Files {
		uid, gid, err := spec.ParseOwner(f.Owner)
		if err != nil {
			return bkllb.State{}, err
		}
		mode, err := spec.ParseMode(f.Mode)
		if err != nil {
			return bkllb.State{}, err
		}
		info := &bkllb.CopyInfo{
			CopyDirContentsOnly: dstMayExist(f.Dst, made, dsts[:i]),
			// A src that is a symlink is copied as what it names: the
			// frontend has made sure that stays inside the context.
			FollowSymlinks: true,
			ChownOpt:       &bkllb.ChownOpt{User: &bkllb.UserOpt{UID: uid}, Group: &bkllb.UserOpt{UID: gid}},
		}
		if mode >= 0 {
			info.Mode = &bkllb.ChmodOpt{ModeStr: filesModeStr(mode)}
		}
		src := path.Join("/", f.Src)
		if fa == nil {
			fa = bkllb.Copy(context, src, f.Dst, info)
		} else {
			fa = fa.Copy(context, src, f.Dst, info)
		}
	}
	return stamped(fa, epoch, "copy image.files"), nil
}

// dstMayExist reports whether a files entry's dst may be a directory
// already when it is copied: a parent made for another entry, at or under
// an earlier entry's dst, or named with a trailing slash. Then the
// entry's contents are copied into it. Otherwise the copy creates dst
// itself, from a directory as from a file, and gives dst the entry's
// owner and mode too (a copy of contents into a new dst would make dst
// with the daemon's default mode).
func dstMayExist(dst string, made, earlier []string) bool {
	clean := path.Clean(dst)
	if strings.HasSuffix(dst, "/") || slices.Contains(made, clean) {
		return true
	}
	for _, e := range earlier {
		e = path.Clean(e)
		if clean == e || strings.HasPrefix(clean, e+"/") {
			return true
		}
	}
	return false
}

func fileMode(m int) os.FileMode { return os.FileMode(m) }

// stamped builds a tree with actions and copies it into a new layer with
// every timestamp set to the epoch. Stamping each action is not enough:
// creating a file updates its directory's mtime to the wall clock, and the
// copy fixes directories only after their contents. Both run in one file
// op, so the intermediate tree is never a step (or a snapshot) of its own.
func stamped(tree *bkllb.FileAction, epoch time.Time, name string) bkllb.State {
	return bkllb.Scratch().File(
		bkllb.Copy(tree.WithState(bkllb.Scratch()), "/", "/", &bkllb.CopyInfo{CopyDirContentsOnly: true, CreatedTime: &epoch}),
		bkllb.WithCustomName(name),
	)
}

// imageConfig is the OCI config of one platform's image: the base image's
// config when there is one, with the spec's settings (image templates
// rendered) on top.
func imageConfig(s *spec.Spec, opt Options, target ocispecs.Platform, data spec.TemplateData, bins []Built) *dockerspec.DockerOCIImage {
	base := s.BaseFor(target)
	epoch := opt.epoch()
	img := inheritedConfig(opt, base)
	img.Created = &epoch
	img.Platform = ocispecs.Platform{OS: target.OS, Architecture: target.Architecture, Variant: target.Variant}
	img.RootFS.Type = "layers"

	img.Config.Env = imageEnv(s, base, img.Config.Env)
	applyImageSettings(&img.Config, s.Image)
	img.Config.Labels = mergeLabels(img.Config.Labels, ociLabels(opt, data), s.Image.Labels, opt.Labels)
	addHistory(img, s, base, bins, epoch)
	return img
}

// inheritedConfig is what an image base passes on to the image: its config
// and history, but not its entrypoint and command, which belong to the
// base's program. The static and scratch bases pass on nothing.
func inheritedConfig(opt Options, base string) *dockerspec.DockerOCIImage {
	img := &dockerspec.DockerOCIImage{}
	if opt.BaseImage != nil && base != spec.BaseStatic && base != spec.BaseScratch {
		img.Config = opt.BaseImage.Config
		img.History = slices.Clone(opt.BaseImage.History)
		img.Config.Env = slices.Clone(opt.BaseImage.Config.Env)
		img.Config.Labels = maps.Clone(opt.BaseImage.Config.Labels)
		img.Config.ExposedPorts = maps.Clone(opt.BaseImage.Config.ExposedPorts)
		img.Config.Volumes = maps.Clone(opt.BaseImage.Config.Volumes)
		img.Config.Entrypoint, img.Config.Cmd = nil, nil
	}
	return img
}

// imageEnv is the image's environment, sorted: the base's, a default PATH,
// ZONEINFO for the static base's time zones, and image.env on top.
func imageEnv(s *spec.Spec, base string, inherited []string) []string {
	env := envMap(inherited)
	if _, ok := env["PATH"]; !ok {
		env["PATH"] = defaultPath
	}
	if base == spec.BaseStatic && *s.Image.Tzdata {
		env["ZONEINFO"] = ZoneinfoPath
	}
	maps.Copy(env, s.Image.Env)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// applyImageSettings sets what image says of how the container runs.
func applyImageSettings(cfg *dockerspec.DockerOCIImageConfig, image spec.Image) {
	cfg.User = image.User
	cfg.Entrypoint = image.Entrypoint
	cfg.Cmd = image.Cmd
	if image.Workdir != "" {
		cfg.WorkingDir = image.Workdir
	}
	for _, p := range image.Ports {
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		norm, _ := p.Normalize() // validated by spec.Parse
		cfg.ExposedPorts[norm] = struct{}{}
	}
	for _, v := range image.Volumes {
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
	if image.Stopsignal != "" {
		cfg.StopSignal = image.Stopsignal
	}
	if hc := image.Healthcheck; hc != nil {
		cfg.Healthcheck = &dockerspec.HealthcheckConfig{
			Test:        append([]string{"CMD"}, hc.Command...),
			Interval:    duration(hc.Interval),
			Timeout:     duration(hc.Timeout),
			StartPeriod: duration(hc.StartPeriod),
			Retries:     hc.Retries,
		}
	}
}

// addHistory adds one history entry per layer this frontend adds, dated
// by the epoch: the exporter would otherwise stamp them with the wall
// clock.
func addHistory(img *dockerspec.DockerOCIImage, s *spec.Spec, base string, bins []Built, epoch time.Time) {
	history := func(createdBy string) {
		img.History = append(img.History, ocispecs.History{Created: &epoch, CreatedBy: "gobuild: " + createdBy, Comment: "gobuild"})
	}
	if base == spec.BaseStatic {
		history("static base")
	}
	for _, layer := range binaryLayerContents(bins) {
		history(strings.Join(binaryFiles(layer), " "))
	}
	if len(s.Image.Files) > 0 {
		history("image.files")
	}
	if len(s.ImageDirs()) > 0 {
		history(StepImageDirs)
	}
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
