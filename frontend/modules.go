package frontend

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/solver/pb"
	"golang.org/x/mod/modfile"
)

// moduleFacts is what the context holds of the module files the go
// command reads besides the spec's go.mod: the files themselves, read by
// readModuleFacts; layout turns them into llb's ModuleFiles.
type moduleFacts struct {
	// dir is the spec's module directory, goMod its go.mod.
	dir   string
	goMod []byte
	// work is the path of the go.work go uses, "" for none; workData its
	// text and members the go.mod of each member, by directory.
	work     string
	workData []byte
	members  map[string][]byte
	// modulesTxt holds vendor/modules.txt by the directory of vendor/.
	modulesTxt map[string][]byte
}

// probeDirs are the directories where go looks for go.work, from the
// module's directory up to the context root, nearest first.
func probeDirs(dir string) []string {
	dirs := []string{dir}
	for dir != "." {
		dir = path.Dir(dir)
		dirs = append(dirs, dir)
	}
	return dirs
}

// readModuleFacts reads, in one transfer, the go.work files go would use
// from dir (unless GOWORK is off) and the vendor/modules.txt beside them
// and, in a second, the go.mod of every workspace member. Missing files
// are absent from the result.
func (b *builder) readModuleFacts(ctx context.Context, dir string, workspaces bool) (*moduleFacts, error) {
	var names []string
	for _, d := range probeDirs(dir) {
		names = append(names, path.Join(d, "vendor", "modules.txt"))
		if workspaces {
			names = append(names, path.Join(d, "go.work"))
		}
	}
	found, err := readContextFiles(ctx, b.c, b.bc, "load vendor/modules.txt and go.work", names)
	if err != nil {
		return nil, err
	}
	f := &moduleFacts{dir: dir, modulesTxt: map[string][]byte{}}
	for _, d := range probeDirs(dir) {
		if data, ok := found[path.Join(d, "vendor", "modules.txt")]; ok {
			f.modulesTxt[d] = data
		}
		if data, ok := found[path.Join(d, "go.work")]; ok && f.work == "" {
			f.work, f.workData = path.Join(d, "go.work"), data
		}
	}
	if f.work == "" {
		return f, nil
	}
	wf, err := modfile.ParseWork(f.work, f.workData, nil)
	if err != nil {
		return nil, modFileSyntax(f.work, f.workData, err)
	}
	var mods []string
	for _, u := range wf.Use {
		member, err := localDir(f.work, u.Syntax, "use "+u.Path, u.Path)
		if err != nil {
			return nil, err
		}
		mods = append(mods, path.Join(member, "go.mod"))
	}
	read, err := readContextFiles(ctx, b.c, b.bc, "load the go.mod of the go.work members", mods)
	if err != nil {
		return nil, err
	}
	f.members = map[string][]byte{}
	for name, data := range read {
		f.members[path.Dir(name)] = data
	}
	return f, nil
}

// layout is what go mod download and go build need to know of the
// module files: whether vendor/ is used, the workspace, the directories
// of the modules go.mod and go.work replace with directories or use as
// members, and the modules the spec's module requires.
func (f *moduleFacts) layout() (gbllb.ModuleFiles, error) {
	var m gbllb.ModuleFiles
	main, err := modfile.Parse(path.Join(f.dir, "go.mod"), f.goMod, nil)
	if err != nil {
		return m, err
	}
	goVersion, vendorDir := "", f.dir
	if main.Go != nil {
		goVersion = main.Go.Version
	}
	dirs := replaceDirs(path.Join(f.dir, "go.mod"), main.Replace)
	members := map[string]*modfile.File{}
	if f.work != "" {
		var ws *workspace
		if ws, err = f.workspace(); err != nil {
			return m, err
		}
		m.Workspace, dirs, members = path.Dir(f.work), ws.dirs, ws.members
		goVersion, vendorDir = ws.goVersion, m.Workspace
	}
	m.Requires = requires(main, members)
	if txt, ok := f.modulesTxt[vendorDir]; ok {
		m.Vendor = goAtLeast(goVersion, 14) && vendorForWorkspace(txt) == (f.work != "")
	}
	slices.Sort(dirs)
	for _, d := range slices.Compact(dirs) {
		if d != f.dir {
			m.Dirs = append(m.Dirs, d)
		}
	}
	return m, nil
}

// requires are the module paths main requires and, for each workspace
// member it requires (members, by module path), that member's, in turn:
// the modules whose packages main's binaries and tests may import. A
// member imported without a requirement brings its modules through go
// build instead.
func requires(main *modfile.File, members map[string]*modfile.File) []string {
	var paths []string
	seen := map[string]bool{}
	visit := []*modfile.File{main}
	for len(visit) > 0 {
		f := visit[0]
		visit = visit[1:]
		for _, r := range f.Require {
			if seen[r.Mod.Path] {
				continue
			}
			seen[r.Mod.Path] = true
			paths = append(paths, r.Mod.Path)
			if member, ok := members[r.Mod.Path]; ok {
				visit = append(visit, member)
			}
		}
	}
	return paths
}

// workspace is what go.work and its members' go.mod files say.
type workspace struct {
	goVersion string
	// dirs are the members and the directories the replace directives of
	// go.work and of every member name.
	dirs []string
	// members are the members' go.mod files by module path.
	members map[string]*modfile.File
}

func (f *moduleFacts) workspace() (*workspace, error) {
	wf, err := modfile.ParseWork(f.work, f.workData, nil)
	if err != nil {
		return nil, modFileSyntax(f.work, f.workData, err)
	}
	ws := &workspace{members: map[string]*modfile.File{}}
	if wf.Go != nil {
		ws.goVersion = wf.Go.Version
	}
	ws.dirs = replaceDirs(f.work, wf.Replace)
	for _, u := range wf.Use {
		member, err := localDir(f.work, u.Syntax, "use "+u.Path, u.Path)
		if err != nil {
			return nil, err
		}
		ws.dirs = append(ws.dirs, member)
		data, ok := f.members[member]
		if !ok {
			continue // go reports a member without go.mod
		}
		mf, err := modfile.Parse(path.Join(member, "go.mod"), data, nil)
		if err != nil {
			return nil, modFileSyntax(path.Join(member, "go.mod"), data, err)
		}
		ws.dirs = append(ws.dirs, replaceDirs(path.Join(member, "go.mod"), mf.Replace)...)
		if mf.Module != nil {
			ws.members[mf.Module.Mod.Path] = mf
		}
	}
	return ws, nil
}

// replaceDirs are the directories, relative to the context root, of the
// replace directives of file that name a directory inside the context.
// One outside it (or absolute) is left out, not refused: go reads a
// replacement only when the module is in the build list (and never with
// vendor/), so go says so when the build needs it, and a builder image
// may even provide an absolute one.
func replaceDirs(file string, replaces []*modfile.Replace) []string {
	var dirs []string
	for _, r := range replaces {
		if r.New.Version != "" || !modfile.IsDirectoryPath(r.New.Path) {
			continue
		}
		if dir, err := localDir(file, r.Syntax, "replace", r.New.Path); err == nil {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

// localDir is dir, which a directive of file names relative to file's
// directory, relative to the context root. A directory outside the
// context is an error naming the directive and its line.
func localDir(file string, syntax *modfile.Line, directive, dir string) (string, error) {
	joined := path.Join(path.Dir(file), dir)
	if strings.HasPrefix(dir, "/") || strings.Contains(dir, `\`) || joined == ".." || strings.HasPrefix(joined, "../") {
		line := 0
		if syntax != nil {
			line = syntax.Start.Line
		}
		return "", fmt.Errorf("%s:%d: %s: %s is outside the build context, which is all the build sees; build from a context that holds it", file, line, directive, dir)
	}
	return joined, nil
}

// goAtLeast reports whether the go version v (1.21, 1.21.3, 1.21rc1) is at
// least 1.minor.
func goAtLeast(v string, minor int) bool {
	major, rest, _ := strings.Cut(v, ".")
	if major != "1" {
		n, err := strconv.Atoi(major)
		return err == nil && n > 1
	}
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		rest = rest[:i]
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n >= minor
}

// vendorForWorkspace reports whether modules.txt was written by go work
// vendor: its first line's annotations say "workspace".
func vendorForWorkspace(modulesTxt []byte) bool {
	line, _, _ := strings.Cut(string(modulesTxt), "\n")
	annotations, ok := strings.CutPrefix(line, "## ")
	if !ok {
		return false
	}
	for entry := range strings.SplitSeq(annotations, ";") {
		if strings.TrimSpace(entry) == "workspace" {
			return true
		}
	}
	return false
}

// downloadDirectives are the lines of go.mod that decide what go mod
// download fetches: go, toolchain, require and replace. A go.mod that does
// not parse has none; loading the module reports it.
func downloadDirectives(filename string, goMod []byte) []*pb.Range {
	f, err := modfile.Parse(filename, goMod, nil)
	if err != nil {
		return nil
	}
	var lines []*modfile.Line
	if f.Go != nil {
		lines = append(lines, f.Go.Syntax)
	}
	if f.Toolchain != nil {
		lines = append(lines, f.Toolchain.Syntax)
	}
	for _, r := range f.Require {
		lines = append(lines, r.Syntax)
	}
	for _, r := range f.Replace {
		lines = append(lines, r.Syntax)
	}
	var ranges []*pb.Range
	for _, l := range lines {
		if l == nil {
			continue
		}
		ranges = append(ranges, &pb.Range{Start: &pb.Position{Line: int32(l.Start.Line)}, End: &pb.Position{Line: int32(l.End.Line)}})
	}
	return ranges
}
