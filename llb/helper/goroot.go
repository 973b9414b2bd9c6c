//go:build ignore

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// sourcesCommand copies a Go distribution's src into two trees
// (sources FROM REST SPLIT OS,... -- NAME...): the top-level directories
// NAME... into SPLIT, the rest into REST, which keeps NAME... as empty
// directories to mount SPLIT's on. Two trees, so that a fresh builder
// unpacks them side by side; most of their time is making files.
//
// It leaves out what go build never reads for the build's targets: the
// sources of go's own commands (cmd), tests, testdata, and the files
// whose names tie them to one of the operating systems OS,...
func sourcesCommand(args []string) error {
	if len(args) < 5 || args[4] != "--" {
		return fmt.Errorf("usage: gobuild-helper sources FROM REST SPLIT OS,... -- NAME...")
	}
	rest, split, dropped, names := args[1], args[2], strings.Split(args[3], ","), args[5:]
	// WalkDir does not follow a root that is a link.
	from, err := filepath.EvalSymlinks(args[0])
	if err != nil {
		return err
	}
	var dirs []copiedDir
	var rootTime time.Time
	err = filepath.WalkDir(from, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name, err := filepath.Rel(from, file)
		if err != nil {
			return err
		}
		if d.IsDir() && (name == "cmd" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && !kept(d.Name(), dropped) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if name == "." {
			rootTime = info.ModTime()
			dirs = append(dirs, copiedDir{rest, rootTime}, copiedDir{split, rootTime})
			return nil
		}
		to := filepath.Join(rest, name)
		top, _, _ := strings.Cut(name, string(filepath.Separator))
		if slices.Contains(names, top) {
			to = filepath.Join(split, name)
			if name == top { // its mount point in REST
				if err := copyEntry(file, filepath.Join(rest, name), info); err != nil {
					return err
				}
				dirs = append(dirs, copiedDir{filepath.Join(rest, name), info.ModTime()})
			}
		}
		if d.IsDir() {
			dirs = append(dirs, copiedDir{to, info.ModTime()})
		}
		return copyEntry(file, to, info)
	})
	if err != nil {
		return err
	}
	// A distribution without one of them still gives its mounts a place.
	for _, name := range names {
		for _, dir := range []string{filepath.Join(rest, name), filepath.Join(split, name)} {
			if _, err := os.Stat(dir); err == nil {
				continue
			}
			if err := os.Mkdir(dir, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, copiedDir{dir, rootTime})
		}
	}
	// A directory's times change as entries are made in it: set them
	// last, so that the trees are the same on every builder.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i].to, dirs[i].modTime, dirs[i].modTime); err != nil {
			return err
		}
	}
	return nil
}

// copiedDir is a directory made in REST or SPLIT, and the time it takes
// once everything is in it.
type copiedDir struct {
	to      string
	modTime time.Time
}

// copyEntry copies a file, directory or symlink with its mode, owner and
// modification time (a directory's time is set later, from copiedDir).
func copyEntry(from, to string, info fs.FileInfo) error {
	switch {
	case info.IsDir():
		if err := os.MkdirAll(to, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(to, info.Mode().Perm()); err != nil {
			return err
		}
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(from)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, to); err != nil {
			return err
		}
	case info.Mode().IsRegular():
		if err := copyRegular(from, to, info.Mode().Perm()); err != nil {
			return err
		}
	default:
		return nil // nothing go reads
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if err := os.Lchown(to, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	if info.IsDir() || info.Mode()&fs.ModeSymlink != 0 {
		return nil
	}
	return os.Chtimes(to, info.ModTime(), info.ModTime())
}

func copyRegular(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(to, perm) // the umask may have taken bits
}

// subsetCommand copies into OUT the packages of a Go distribution's src
// (subset FROM OUT JOBS OS,... ARCH,... [MODOUT]) that the go builds JOBS
// describes reach, with the files of them go build may read: those sources
// keeps (leaving out the operating systems OS,...), of the architectures
// ARCH,... only. Also the files at the root of src and vendor/modules.txt.
//
// JOBS is a JSON list of {"env", "flags", "packages"}: go list -deps, with
// those flags and in the environment with those settings added, of a main
// package that imports the packages names the standard packages that go
// build reaches, those the linker adds included. When go list fails, or
// cannot load a package outside the standard library (whose imports are
// then unknown), every package is copied.
//
// With MODOUT, the same go list names the packages of other modules the
// go builds read: MODOUT gets them from $GOMODCACHE in its layout (see
// copyModules), so that a builder whose module cache is empty builds
// without extracting whole modules.
func subsetCommand(args []string) error {
	if len(args) != 5 && len(args) != 6 {
		return fmt.Errorf("usage: gobuild-helper subset FROM OUT JOBS OS,... ARCH,... [MODOUT]")
	}
	from, err := filepath.EvalSymlinks(args[0])
	if err != nil {
		return err
	}
	out, dropped, archs := args[1], strings.Split(args[3], ","), strings.Split(args[4], ",")
	for _, arch := range knownArch {
		if !slices.Contains(archs, arch) {
			dropped = append(dropped, arch)
		}
	}
	data, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	var jobs []subsetJob
	if err := json.Unmarshal(data, &jobs); err != nil {
		return fmt.Errorf("%s: %w", args[2], err)
	}
	reached := map[string]bool{".": true, "vendor": true}
	modules := &moduleFiles{}
	for _, job := range jobs {
		listed, err := reachedPackages(from, job)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gobuild-helper: every standard package is kept:", err)
			if reached, err = everyPackage(from); err != nil {
				return err
			}
			modules = nil
			break
		}
		for _, dir := range listed.std {
			reached[dir] = true
		}
		modules.add(listed.modules)
	}
	dirs := make([]string, 0, len(reached))
	for dir := range reached {
		dirs = append(dirs, dir)
	}
	slices.Sort(dirs)
	fmt.Fprintf(os.Stderr, "gobuild-helper: %d directories of the standard library kept\n", len(dirs))
	if err := copyPackages(from, out, dirs, nil, dropped); err != nil {
		return err
	}
	if len(args) == 6 {
		return copyModules(args[5], jobs, modules, dropped)
	}
	return nil
}

// subsetJob is one go build, as go list is to load it.
type subsetJob struct {
	Env      []string `json:"env"`
	Flags    []string `json:"flags"`
	Packages []string `json:"packages"`
}

// listedPackages is what one go list names: the standard packages'
// directories relative to src, and what go build reads of other modules.
type listedPackages struct {
	std     []string
	modules moduleFiles
}

// moduleFiles is what go build reads of the module cache: the
// directories of packages and the single files (embedded files, each
// module's go.mod as the cache keeps it), by absolute path.
type moduleFiles struct {
	dirs, files []string
}

func (m *moduleFiles) add(other moduleFiles) {
	if m != nil {
		m.dirs = append(m.dirs, other.dirs...)
		m.files = append(m.files, other.files...)
	}
}

// addModule adds the go.mod at the root of a module extracted at dir and
// the cache's record of it beside goMod (the cache's .mod file): go build
// looks for its hash (.ziphash) before it trusts the extracted files.
func (m *moduleFiles) addModule(dir, goMod string) {
	if dir != "" {
		m.files = append(m.files, filepath.Join(dir, "go.mod"))
	}
	if record, ok := strings.CutSuffix(goMod, ".mod"); ok {
		m.files = append(m.files, goMod, record+".ziphash", record+".info")
	}
}

// reachedPackages lists the packages job reaches. go list is given a main
// package importing the job's packages, so that it adds what the linker
// adds (runtime, math on arm, runtime/cgo for external linking);
// runtime/cgo is kept in any case, since runtime's assembly includes its
// headers.
func reachedPackages(from string, job subsetJob) (listedPackages, error) {
	var listed listedPackages
	tmp, err := os.MkdirTemp("", "gobuild-subset-")
	if err != nil {
		return listed, err
	}
	defer os.RemoveAll(tmp)
	var program strings.Builder
	program.WriteString("package main\n\n")
	packages := append(slices.Clone(job.Packages), "runtime/cgo")
	slices.Sort(packages)
	for _, p := range slices.Compact(packages) {
		fmt.Fprintf(&program, "import _ %q\n", p)
	}
	program.WriteString("\nfunc main() {}\n")
	mainFile := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(mainFile, []byte(program.String()), 0o644); err != nil {
		return listed, err
	}
	// Tab-separated: a module's file paths have no control characters.
	// After the package's own fields, its module's directory and go.mod
	// (those of the replacement, when replaced; "main" for the main
	// module's), then the files it embeds.
	const format = "{{.Standard}}\t{{if not .Error}}ok{{else if and (not .GoFiles) .IgnoredGoFiles}}excluded{{else}}failed{{end}}\t{{.ImportPath}}\t{{.Dir}}\t" +
		"{{with .Module}}{{if .Main}}main\t{{else}}{{with .Replace}}{{.Dir}}\t{{.GoMod}}{{else}}{{.Dir}}\t{{.GoMod}}{{end}}{{end}}{{else}}\t{{end}}" +
		"\t{{join .EmbedFiles \"\\t\"}}"
	args := append(append([]string{"list", "-e", "-deps", "-f", format}, job.Flags...), mainFile)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), job.Env...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return listed, fmt.Errorf("go list: %w", err)
	}
	// The packages of modules, for prefixModules.
	var imported []string
	// Not trimmed: a line may end in empty fields.
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			return listed, fmt.Errorf("go list printed %q", line)
		}
		standard, state, importPath, dir := f[0] == "true", f[1], f[2], f[3]
		if importPath == "command-line-arguments" {
			continue // the main package above
		}
		if !standard {
			// A package whose files are all excluded for the target is no
			// package go build compiles; any other error hides imports.
			if state == "failed" {
				return listed, fmt.Errorf("go list cannot load %s", importPath)
			}
			imported = append(imported, importPath)
			moduleDir, goMod := f[4], f[5]
			if moduleDir == "main" || dir == "" {
				continue // the context has the main module's packages
			}
			listed.modules.dirs = append(listed.modules.dirs, dir)
			for _, embedded := range f[6:] {
				if embedded != "" {
					listed.modules.files = append(listed.modules.files, filepath.Join(dir, embedded))
				}
			}
			listed.modules.addModule(moduleDir, goMod)
			continue
		}
		if dir == "" {
			return listed, fmt.Errorf("go list found no directory for %s", importPath)
		}
		rel, ok := within(from, dir)
		if !ok {
			continue // not in src: a package such as GOFIPS140's, in the module cache
		}
		listed.std = append(listed.std, rel)
	}
	err = prefixModules(job, &listed.modules, imported)
	return listed, err
}

// prefixModules adds to m, for each module of the build list whose path
// is a prefix of an imported package's (other than the module providing
// it), what go build reads of it to rule out an ambiguous import: its
// root, the package's directory in it if there is one, and the cache's
// record of it (go mod tidy keeps such modules' sums for that check).
func prefixModules(job subsetJob, m *moduleFiles, imported []string) error {
	const format = "{{.Path}}\t{{.Main}}\t{{with .Replace}}{{.Dir}}\t{{.GoMod}}{{else}}{{.Dir}}\t{{.GoMod}}{{end}}"
	cmd := exec.Command("go", append(append([]string{"list", "-m", "-e", "-f", format}, job.Flags...), "all")...)
	cmd.Env = append(os.Environ(), job.Env...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go list -m: %w", err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return fmt.Errorf("go list -m printed %q", line)
		}
		path, main, dir, goMod := f[0], f[1] == "true", f[2], f[3]
		if main || dir == "" {
			continue
		}
		for _, p := range imported {
			rest, ok := strings.CutPrefix(p, path)
			if !ok || (rest != "" && rest[0] != '/') {
				continue
			}
			m.dirs = append(m.dirs, dir, filepath.Join(dir, filepath.FromSlash(rest)))
			m.addModule(dir, goMod)
		}
	}
	return nil
}

// copyModules copies into out what the go builds of jobs read of the
// module cache ($GOMODCACHE of the first job's environment, else go's),
// in its layout: the files of each package directory that kept keeps,
// the files the packages embed, each module's go.mod and the cache's
// .mod, .ziphash and .info of the modules, and the .mod of every module
// version go.sum names (go reads those to load the build list). Nothing
// else of the cache: on a shared builder it holds other projects' modules.
//
// modules nil (go list failed) writes nothing: go build then downloads
// what it needs, as it does without this layer. A package go build reads
// that is missing here fails it, so the frontend asks for this layer only
// where it has read every package of the module the go builds reach.
func copyModules(out string, jobs []subsetJob, modules *moduleFiles, dropped []string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if modules == nil || len(jobs) == 0 {
		return nil
	}
	cache, err := goEnv(jobs[0].Env, "GOMODCACHE")
	if err != nil {
		return err
	}
	if cache, err = filepath.EvalSymlinks(cache); err != nil {
		return err
	}
	inCache := func(paths []string) []string {
		var rel []string
		for _, p := range paths {
			if r, ok := within(cache, p); ok {
				rel = append(rel, r)
			}
		}
		slices.Sort(rel)
		return slices.Compact(rel)
	}
	files := inCache(modules.files)
	sums, err := os.ReadFile("go.sum")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, line := range strings.Split(string(sums), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		version, ok := strings.CutSuffix(f[1], "/go.mod")
		if !ok {
			continue
		}
		files = append(files, filepath.Join("cache", "download", escapeModulePath(f[0]), "@v", escapeModulePath(version)+".mod"))
	}
	dirs := inCache(modules.dirs)
	// Made first: a build that reaches no other module's package still
	// names its (nearly empty) subset.
	staged := filepath.Join(out, ".staged")
	if err := os.MkdirAll(staged, 0o755); err != nil {
		return err
	}
	if err := copyPackages(cache, staged, dirs, files, dropped); err != nil {
		return err
	}
	key, err := subsetKey(staged)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gobuild-helper: %d package directories of other modules kept\n", len(dirs))
	return os.Rename(staged, filepath.Join(out, key))
}

// subsetKey names a subset of the module cache by what it holds (each
// file's path and size: a module version's files never change), so that
// go build, whose module cache it becomes, indexes each subset under a
// path of its own. go keys a module's index on its directory alone and
// trusts it afterwards: under one path for every subset, a build's
// partial index would hide packages from the next build that reads more.
func subsetKey(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var size int64
		if info.Mode().IsRegular() {
			size = info.Size()
		}
		rel, _ := filepath.Rel(dir, name)
		fmt.Fprintf(h, "%s %v %d\n", filepath.ToSlash(rel), d.Type(), size)
		return nil
	})
	return fmt.Sprintf("subset-%x", h.Sum(nil)[:12]), err
}

// within is path relative to root, if path is inside root.
func within(root, path string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// goEnv is the value go gives name in an environment with env added.
func goEnv(env []string, name string) (string, error) {
	cmd := exec.Command("go", "env", name)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// escapeModulePath is a module path or version as the module cache names
// it: each upper-case letter as '!' and its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// everyPackage is every directory of src that sources keeps.
func everyPackage(from string) (map[string]bool, error) {
	dirs := map[string]bool{}
	err := filepath.WalkDir(from, func(file string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name, err := filepath.Rel(from, file)
		if err != nil {
			return err
		}
		if name == "cmd" || d.Name() == "testdata" {
			return filepath.SkipDir
		}
		dirs[name] = true
		return nil
	})
	return dirs, err
}

// copyPackages copies the files of each directory in dirs (relative to
// from, sorted, so that a parent comes before its children) that kept
// keeps, and each file in files (relative to from), making the
// directories on the way with their modes and times. A directory or file
// that from lacks (no vendor/ in an old distribution, a go.sum line of a
// module never downloaded) is skipped.
func copyPackages(from, out string, dirs, files, dropped []string) error {
	var made []copiedDir
	modes := map[string]fs.FileMode{}
	done := map[string]bool{}
	var mkdir func(name string) error
	mkdir = func(name string) error {
		if done[name] {
			return nil
		}
		if name != "." {
			if err := mkdir(filepath.Dir(name)); err != nil {
				return err
			}
		}
		info, err := os.Lstat(filepath.Join(from, name))
		if err != nil {
			return err
		}
		to := filepath.Join(out, name)
		if err := copyEntry(filepath.Join(from, name), to, info); err != nil {
			return err
		}
		// The module cache's directories are read-only: writable until
		// everything is in them.
		if err := os.Chmod(to, info.Mode().Perm()|0o700); err != nil {
			return err
		}
		done[name] = true
		made = append(made, copiedDir{to, info.ModTime()})
		modes[to] = info.Mode().Perm()
		return nil
	}
	copyFile := func(name string, info fs.FileInfo) error {
		if done[name] {
			return nil
		}
		done[name] = true
		return copyEntry(filepath.Join(from, name), filepath.Join(out, name), info)
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(filepath.Join(from, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := mkdir(dir); err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() || !kept(e.Name(), dropped) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if err := copyFile(filepath.Join(dir, e.Name()), info); err != nil {
				return err
			}
		}
	}
	for _, file := range files {
		info, err := os.Lstat(filepath.Join(from, file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := mkdir(filepath.Dir(file)); err != nil {
			return err
		}
		if err := copyFile(file, info); err != nil {
			return err
		}
	}
	// A directory's times change as entries are made in it: set them
	// last, children first.
	for i := len(made) - 1; i >= 0; i-- {
		if err := os.Chmod(made[i].to, modes[made[i].to]); err != nil {
			return err
		}
		if err := os.Chtimes(made[i].to, made[i].modTime, made[i].modTime); err != nil {
			return err
		}
	}
	return nil
}

// knownOS and knownArch are the operating systems and architectures a
// source file's name can tie it to (go/build's lists).
var (
	knownOS   = strings.Fields("aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 windows zos")
	knownArch = strings.Fields("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm")
)

// sourceExts are the files go/build reads as a package's sources (the
// name rule applies to them only: any other file may be embedded).
var sourceExts = strings.Fields(".go .c .cc .cxx .cpp .m .s .S .sx .h .hh .hpp .hxx .f .F .for .f90 .swig .swigcxx .syso")

// kept reports whether go build may read the file: not a test, and not a
// source whose name ties it to one of the dropped operating systems or
// architectures (go/build's rule: the name before its first dot ends in
// _GOOS, _GOARCH or _GOOS_GOARCH, before an optional _test).
func kept(name string, dropped []string) bool {
	if !slices.Contains(sourceExts, filepath.Ext(name)) {
		return true
	}
	if strings.HasSuffix(name, "_test.go") {
		return false
	}
	stem, _, _ := strings.Cut(name, ".")
	_, constrained, ok := strings.Cut(stem, "_")
	if !ok {
		return true
	}
	l := strings.Split(constrained, "_")
	if n := len(l); n > 0 && l[n-1] == "test" {
		l = l[:n-1]
	}
	n := len(l)
	if n >= 2 && slices.Contains(knownOS, l[n-2]) && slices.Contains(knownArch, l[n-1]) {
		return !slices.Contains(dropped, l[n-2]) && !slices.Contains(dropped, l[n-1])
	}
	return n == 0 || !slices.Contains(dropped, l[n-1])
}
