package spec

import (
	"path"
	"strings"
	"time"
)

func (s *Spec) validateImage() []error {
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }
	img := &s.Image
	if err := checkBase(img.baseOrDefault()); err != nil {
		add(s.errorAt(s.Pos("image", "base"), "image.base: %v", err))
	}
	for _, p := range sortedKeys(img.Bases) {
		if err := checkPlatform(p); err != nil {
			add(s.errorAt(s.KeyPos("image", "bases", p), "image.bases: %v", err))
		}
		if err := checkBase(img.Bases[p]); err != nil {
			add(s.errorAt(s.Pos("image", "bases", p), "image.bases[%s]: %v", p, err))
		}
	}
	if img.ZoneinfoTree && img.Tzdata != nil && !*img.Tzdata {
		add(s.errorAt(s.Pos("image", "zoneinfotree"), "image.zoneinfotree unpacks the time zone database that tzdata: false leaves out; drop one of them"))
	}
	errs = append(errs, s.checkEnv([]any{"image", "env"}, img.Env)...)
	if img.Workdir != "" && !path.IsAbs(img.Workdir) {
		add(s.errorAt(s.Pos("image", "workdir"), "image.workdir %q must be an absolute path", img.Workdir))
	}
	for i, p := range img.Ports {
		if _, err := p.Normalize(); err != nil {
			add(s.errorAt(s.Pos("image", "ports", i), "image.ports[%d]: %v", i, err))
		}
	}
	for i, v := range img.Volumes {
		if !path.IsAbs(v) {
			add(s.errorAt(s.Pos("image", "volumes", i), "image.volumes[%d] %q must be an absolute path", i, v))
		}
	}
	if img.Stopsignal != "" && !validSignal(img.Stopsignal) {
		add(s.errorAt(s.Pos("image", "stopsignal"), "image.stopsignal %q is not a signal; use a name such as SIGTERM or a number", img.Stopsignal))
	}
	errs = append(errs, s.validateHealthcheck()...)
	errs = append(errs, s.validateFiles()...)
	return append(errs, s.validateDirs()...)
}

func (s *Spec) validateDirs() []error {
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }
	for i, d := range s.Image.Dirs {
		at := func(p ...any) Pos { return s.Pos(append([]any{"image", "dirs", i}, p...)...) }
		if !path.IsAbs(d.Path) || path.Clean(d.Path) == "/" {
			add(s.errorAt(at("path"), "image.dirs[%d].path %q must be an absolute path in the image, other than /", i, d.Path))
		}
		errs = append(errs, s.checkOwnership("dirs", i, at, d.Owner, d.Mode)...)
	}
	return errs
}

// checkOwnership checks the owner and mode of image.<field>[i], each at
// its line.
func (s *Spec) checkOwnership(field string, i int, at func(...any) Pos, owner, mode string) []error {
	var errs []error
	if _, _, err := ParseOwner(owner); err != nil {
		errs = append(errs, s.errorAt(at("owner"), "image.%s[%d].owner: %v", field, i, err))
	}
	if _, err := ParseMode(mode); err != nil {
		errs = append(errs, s.errorAt(at("mode"), "image.%s[%d].mode: %v", field, i, err))
	}
	return errs
}

func (s *Spec) validateHealthcheck() []error {
	hc := s.Image.Healthcheck
	if hc == nil {
		return nil
	}
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }
	if len(hc.Command) == 0 {
		add(s.errorAt(s.Pos("image", "healthcheck"), "image.healthcheck.command is missing; give the program and its arguments, such as [/usr/local/bin/server, -healthcheck]"))
	} else if hc.Command[0] == "CMD-SHELL" || hc.Command[0] == "/bin/sh" || hc.Command[0] == "sh" {
		add(s.errorAt(s.Pos("image", "healthcheck", "command"), "image.healthcheck.command runs a shell, and the image has none; call a program directly"))
	}
	for _, d := range []struct{ name, v string }{{"interval", hc.Interval}, {"timeout", hc.Timeout}, {"startPeriod", hc.StartPeriod}} {
		if d.v == "" {
			continue
		}
		if v, err := time.ParseDuration(d.v); err != nil || v < 0 {
			add(s.errorAt(s.Pos("image", "healthcheck", d.name), "image.healthcheck.%s %q is not a duration; write it like 30s or 1m", d.name, d.v))
		}
	}
	if hc.Retries < 0 {
		add(s.errorAt(s.Pos("image", "healthcheck", "retries"), "image.healthcheck.retries must not be negative"))
	}
	return errs
}

func (s *Spec) validateFiles() []error {
	var errs []error
	add := func(e *Error) { errs = append(errs, e) }
	for i, f := range s.Image.Files {
		at := func(p ...any) Pos { return s.Pos(append([]any{"image", "files", i}, p...)...) }
		if _, ok := contextPath(f.Src); f.Src == "" || !ok {
			add(s.errorAt(at("src"), "image.files[%d].src %q must be a path inside the build context", i, f.Src))
		}
		if !path.IsAbs(f.Dst) {
			add(s.errorAt(at("dst"), "image.files[%d].dst %q must be an absolute path in the image", i, f.Dst))
		}
		errs = append(errs, s.checkOwnership("files", i, at, f.Owner, f.Mode)...)
	}
	return errs
}

func (s *Spec) validateTest() []error {
	var errs []error
	for i, p := range s.Test.Packages {
		if p != "./..." && !isRelativePackage(strings.TrimSuffix(p, "/...")) {
			errs = append(errs, s.errorAt(s.Pos("test", "packages", i), "test.packages[%d] %q must be a package path inside the module, such as ./... or ./internal/...", i, p))
		}
	}
	for i, f := range s.Test.Flags {
		if err := checkFlag(f, testFlags); err != nil {
			errs = append(errs, s.errorAt(s.Pos("test", "flags", i), "test.flags[%d]: %v", i, err))
		} else if f == "-race" && !s.Test.Cgo {
			errs = append(errs, s.errorAt(s.Pos("test", "flags", i), "test.flags[%d]: -race needs cgo; set test.cgo: true", i))
		}
	}
	for i, tag := range s.Test.Tags {
		if !validTag(tag) {
			errs = append(errs, s.errorAt(s.Pos("test", "tags", i), "test.tags[%d] %q is not a build tag", i, tag))
		}
	}
	return append(errs, s.checkGoEnv([]any{"test", "env"}, s.Test.Env)...)
}
