package llb

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// dirMeta is a directory's owner and exact mode (with the sticky bit).
type dirMeta struct {
	uid, gid int
	mode     int
}

// baseDirs are directories of the static base (and of distroless) whose
// owner or mode is not root's 0755. A layer that needs one as a parent
// repeats it as it is, or its entry would replace the base's.
var baseDirs = map[string]dirMeta{
	"/tmp":          {0, 0, 0o1777},
	"/home/nonroot": {65532, 65532, 0o700},
}

// parentMeta is what a parent a layer creates gets: root's 0755, or the
// base's own for the directories baseDirs lists.
func parentMeta(p string) dirMeta {
	if m, ok := baseDirs[p]; ok {
		return m
	}
	return dirMeta{0, 0, 0o755}
}

// parents returns the ancestors of paths that are not paths themselves,
// sorted so that each comes before its children; "/" is never one.
func parents(paths []string) []string {
	seen := map[string]bool{}
	for _, p := range paths {
		seen[path.Clean(p)] = false
	}
	var out []string
	for _, p := range paths {
		for d := path.Dir(path.Clean(p)); d != "/" && d != "."; d = path.Dir(d) {
			if _, ok := seen[d]; ok {
				continue
			}
			seen[d] = true
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// mkdirs adds directories with exactly their owner and mode. Mkdir goes
// through the daemon's umask and drops the sticky bit, so each is an
// empty directory copied with an explicit mode, as the static base's /tmp.
func mkdirs(fa *bkllb.FileAction, dirs []string, meta func(string) dirMeta) *bkllb.FileAction {
	empty := bkllb.Scratch().File(bkllb.Mkdir("/empty", 0o755), bkllb.WithCustomName(StepEmptyDir))
	for _, d := range dirs {
		m := meta(d)
		info := &bkllb.CopyInfo{
			Mode:     &bkllb.ChmodOpt{Mode: fileMode(m.mode)},
			ChownOpt: &bkllb.ChownOpt{User: &bkllb.UserOpt{UID: m.uid}, Group: &bkllb.UserOpt{UID: m.gid}},
		}
		if fa == nil {
			fa = bkllb.Copy(empty, "/empty", d, info)
		} else {
			fa = fa.Copy(empty, "/empty", d, info)
		}
	}
	return fa
}

// dirsLayer makes the directories the image's user writes to (the
// workdir, the volumes, image.dirs) with their parents, in a layer of its
// own; false when the spec has none.
func dirsLayer(s *spec.Spec, epoch time.Time) (bkllb.State, bool, error) {
	dirs := s.ImageDirs()
	if len(dirs) == 0 {
		return bkllb.State{}, false, nil
	}
	meta := map[string]dirMeta{}
	paths := make([]string, 0, len(dirs))
	for _, d := range dirs {
		uid, gid, err := spec.ParseOwner(d.Owner)
		if err != nil {
			return bkllb.State{}, false, err
		}
		mode, err := spec.ParseMode(d.Mode)
		if err != nil || mode < 0 {
			return bkllb.State{}, false, fmt.Errorf("image directory %s: mode %q: %v", d.Path, d.Mode, err)
		}
		meta[d.Path] = dirMeta{uid, gid, mode}
		paths = append(paths, d.Path)
	}
	fa := mkdirs(nil, parents(paths), parentMeta)
	fa = mkdirs(fa, paths, func(p string) dirMeta { return meta[p] })
	return stamped(fa, epoch, StepImageDirs), true, nil
}

// filesModeStr is image.files' mode as a chmod expression: the mode for
// files, with execute added to directories wherever it has read (0444
// gives directories 0555), so that they can be entered.
func filesModeStr(mode int) string {
	var clauses []string
	for i, who := range []string{"u", "g", "o"} {
		bits := mode >> (6 - 3*i) & 7
		perm := ""
		for j, c := range "rwx" {
			if bits&(4>>j) != 0 {
				perm += string(c)
			}
		}
		if bits&4 != 0 && bits&1 == 0 {
			perm += "X"
		}
		clauses = append(clauses, who+"="+perm)
	}
	for bit, c := range map[int]string{0o4000: "u+s", 0o2000: "g+s", 0o1000: "+t"} {
		if mode&bit != 0 {
			clauses = append(clauses, c)
		}
	}
	slices.Sort(clauses[3:])
	return strings.Join(clauses, ",")
}
