//go:build ignore

package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
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

// knownArch are the architectures a source file's name can tie it to
// (go/build's list).
var knownArch = strings.Fields("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm")

// sourceExts are the files go/build reads as a package's sources (the
// name rule applies to them only: any other file may be embedded).
var sourceExts = strings.Fields(".go .c .cc .cxx .cpp .m .s .S .sx .h .hh .hpp .hxx .f .F .for .f90 .swig .swigcxx .syso")

// kept reports whether go build may read the file: not a test, and not a
// source whose name ties it to one of the dropped operating systems
// (go/build's rule: the name before its first dot ends in _GOOS, _GOARCH
// or _GOOS_GOARCH, before an optional _test).
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
	if n >= 2 && slices.Contains(knownArch, l[n-1]) {
		return !slices.Contains(dropped, l[n-2])
	}
	return n == 0 || !slices.Contains(dropped, l[n-1])
}
