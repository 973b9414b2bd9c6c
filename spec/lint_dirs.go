package spec

import (
	"cmp"
	"fmt"
	"strings"
)

// ruleUnwritableDir is the lint rule for a directory the image makes for
// its user that the user cannot write.
const (
	ruleUnwritableDir     = "UnwritableDir"
	unwritableDirDescribe = "a workdir, volume or image.dirs entry the nonroot user cannot write"
)

// lintUnwritableDirs reports the directories the image holds (workdir,
// volumes, image.dirs) that its nonroot user cannot write: owned by
// someone else and not writable by the user's group or by all. That
// happens with a dirs entry's own owner, or with a user name, whose
// directories are root's.
func lintUnwritableDirs(s *Spec) []Finding {
	user := cmp.Or(s.Image.User, DefaultUser)
	if u, _, _ := strings.Cut(user, ":"); u == "0" || u == "root" {
		return nil // RunsAsRoot says it; root writes anywhere
	}
	uid, gid, userErr := ParseOwner(user)
	var out []Finding
	for _, d := range s.ImageDirs() {
		owner := cmp.Or(d.Owner, s.Image.userOwner())
		ouid, ogid, err := ParseOwner(owner)
		mode, merr := ParseMode(cmp.Or(d.Mode, DefaultDirMode))
		if err != nil || merr != nil {
			continue // validation reports them
		}
		writable := mode&0o002 != 0 ||
			userErr == nil && (ouid == uid && mode&0o200 != 0 || ogid == gid && mode&0o020 != 0)
		if writable {
			continue
		}
		pos, field := s.dirOrigin(d.Path)
		who, fix := "user "+user, "leave its owner unset (the user's) or give it a mode the user can write"
		if userErr != nil {
			who, fix = fmt.Sprintf("user %q", user), "a user name cannot own a directory at build time; set image.user to its numeric uid[:gid]"
		}
		out = append(out, Finding{Rule: ruleUnwritableDir, Description: unwritableDirDescribe, Pos: pos,
			Detail: fmt.Sprintf("%s %s is owned by %s with mode %04o, and the image's %s cannot write it; %s", field, d.Path, owner, mode, who, fix)})
	}
	return out
}

// dirOrigin is where the spec asks for the image directory p: its
// image.dirs entry, else the workdir, else a volume.
func (s *Spec) dirOrigin(p string) (Pos, string) {
	for i, d := range s.Image.Dirs {
		if cleanAbs(d.Path) == p {
			return s.Pos("image", "dirs", i), fmt.Sprintf("image.dirs[%d]", i)
		}
	}
	if cleanAbs(s.Image.Workdir) == p {
		return s.Pos("image", "workdir"), "image.workdir"
	}
	for i, v := range s.Image.Volumes {
		if cleanAbs(v) == p {
			return s.Pos("image", "volumes", i), fmt.Sprintf("image.volumes[%d]", i)
		}
	}
	return Pos{}, "a directory"
}
