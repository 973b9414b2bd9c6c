package frontend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// refFiles is what gitFS reads a solved context through: a
// client.Reference.
type refFiles interface {
	ReadFile(ctx context.Context, req client.ReadRequest) ([]byte, error)
	ReadDir(ctx context.Context, req client.ReadDirRequest) ([]*fstypes.Stat, error)
}

// gitBlockSize is how much of a file one read asks the client for. Git
// keeps the commits of a pack together at its start, so a history walk
// needs a few blocks, not one round trip per object.
const (
	gitBlockSize = 256 << 10
	// gitCachedBlocks bounds the memory the blocks take (16 MiB).
	gitCachedBlocks = 64
	// gitMaxReads and gitMaxBytes bound the work one reading of a
	// history may ask of its files, so that a hostile .git (a delta chain
	// without end, a walk without end) fails the read, and the version
	// with it, instead of the frontend.
	gitMaxReads = 1 << 20
	gitMaxBytes = 1 << 30
)

var errGitBudget = errors.New("the history asks for more reading than any real repository needs (a delta chain or walk without end?)")

// gitFS is a read-only billy filesystem over a directory of a solved
// context, for go-git's storage. Nothing is read until go-git asks:
// directories are listed once, files are read in blocks, on demand, so a
// large pack costs what the walk touches.
type gitFS struct {
	ctx  context.Context
	ref  refFiles
	root string

	mu     sync.Mutex
	dirs   map[string]map[string]*fstypes.Stat // listed directories
	blocks map[blockKey][]byte
	order  []blockKey // oldest first
	// reads and bytes count what files served, against gitMaxReads and
	// gitMaxBytes.
	reads, bytes int64
}

// spend counts one read of n bytes, and refuses it past the budget.
func (fs *gitFS) spend(n int) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.reads++
	fs.bytes += int64(n)
	if fs.reads > gitMaxReads || fs.bytes > gitMaxBytes {
		return errGitBudget
	}
	return nil
}

type blockKey struct {
	name  string
	index int64
}

func newGitFS(ctx context.Context, ref refFiles, root string) *gitFS {
	return &gitFS{ctx: ctx, ref: ref, root: root, dirs: map[string]map[string]*fstypes.Stat{}, blocks: map[blockKey][]byte{}}
}

var errReadOnly = errors.New("the build context is read-only")

// clean makes name relative to the root: "" is the root itself.
func (fs *gitFS) clean(name string) string {
	return path.Clean("/" + name)[1:]
}

// list returns a directory's entries by name; nil if it does not exist.
func (fs *gitFS) list(dir string) (map[string]*fstypes.Stat, error) {
	fs.mu.Lock()
	entries, ok := fs.dirs[dir]
	fs.mu.Unlock()
	if ok {
		return entries, nil
	}
	if dir != "" {
		st, err := fs.stat(dir)
		if err != nil || st == nil || !os.FileMode(st.Mode).IsDir() {
			return nil, err
		}
	}
	stats, err := fs.ref.ReadDir(fs.ctx, client.ReadDirRequest{Path: path.Join(fs.root, dir)})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", path.Join(fs.root, dir), err)
	}
	entries = map[string]*fstypes.Stat{}
	for _, st := range stats {
		entries[path.Base(st.Path)] = st
	}
	fs.mu.Lock()
	fs.dirs[dir] = entries
	fs.mu.Unlock()
	return entries, nil
}

// stat returns name's entry in its directory's listing; nil if it does not
// exist.
func (fs *gitFS) stat(name string) (*fstypes.Stat, error) {
	if name == "" {
		return &fstypes.Stat{Path: ".", Mode: uint32(os.ModeDir | 0o755)}, nil
	}
	dir := path.Dir(name)
	if dir == "." {
		dir = ""
	}
	entries, err := fs.list(dir)
	if err != nil {
		return nil, err
	}
	return entries[path.Base(name)], nil
}

func (fs *gitFS) lookup(op, name string) (string, *fstypes.Stat, error) {
	name = fs.clean(name)
	st, err := fs.stat(name)
	if err == nil && st == nil {
		err = os.ErrNotExist
	}
	if err != nil {
		return "", nil, &os.PathError{Op: op, Path: name, Err: err}
	}
	return name, st, nil
}

// block returns block i of name, reading it from the client if it is not
// cached.
func (fs *gitFS) block(name string, size, i int64) ([]byte, error) {
	key := blockKey{name, i}
	fs.mu.Lock()
	b, ok := fs.blocks[key]
	fs.mu.Unlock()
	if ok {
		return b, nil
	}
	off := i * gitBlockSize
	n := min(gitBlockSize, size-off)
	b, err := fs.ref.ReadFile(fs.ctx, client.ReadRequest{Filename: path.Join(fs.root, name), Range: &client.FileRange{Offset: int(off), Length: int(n)}})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path.Join(fs.root, name), err)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fs.blocks[key]; !ok {
		fs.blocks[key] = b
		fs.order = append(fs.order, key)
		if len(fs.order) > gitCachedBlocks {
			delete(fs.blocks, fs.order[0])
			fs.order = fs.order[1:]
		}
	}
	return b, nil
}

func (fs *gitFS) Open(name string) (billy.File, error) {
	name, st, err := fs.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if os.FileMode(st.Mode).IsDir() {
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	return &gitFile{fs: fs, name: name, size: st.Size}, nil
}

func (fs *gitFS) OpenFile(name string, flag int, _ os.FileMode) (billy.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: errReadOnly}
	}
	return fs.Open(name)
}

func (fs *gitFS) Stat(name string) (os.FileInfo, error) {
	_, st, err := fs.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return statInfo{st}, nil
}

func (fs *gitFS) ReadDir(dir string) ([]os.FileInfo, error) {
	dir = fs.clean(dir)
	entries, err := fs.list(dir)
	if err == nil && entries == nil {
		err = os.ErrNotExist
	}
	if err != nil {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: err}
	}
	infos := make([]os.FileInfo, 0, len(entries))
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		infos = append(infos, statInfo{entries[name]})
	}
	return infos, nil
}

func (fs *gitFS) Create(name string) (billy.File, error) {
	return nil, &os.PathError{Op: "create", Path: name, Err: errReadOnly}
}

func (fs *gitFS) Rename(from, _ string) error {
	return &os.PathError{Op: "rename", Path: from, Err: errReadOnly}
}

func (fs *gitFS) Remove(name string) error {
	return &os.PathError{Op: "remove", Path: name, Err: errReadOnly}
}

func (fs *gitFS) MkdirAll(name string, _ os.FileMode) error {
	return &os.PathError{Op: "mkdir", Path: name, Err: errReadOnly}
}

func (fs *gitFS) Join(elem ...string) string { return path.Join(elem...) }

// gitFile is an open file of a gitFS.
type gitFile struct {
	fs   *gitFS
	name string
	size int64
	pos  int64
}

func (f *gitFile) Name() string { return f.name }

func (f *gitFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.spend(len(p)); err != nil {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
	}
	n := 0
	for n < len(p) && off < f.size {
		i := off / gitBlockSize
		b, err := f.fs.block(f.name, f.size, i)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], b[off-i*gitBlockSize:])
		if c == 0 {
			return n, io.ErrUnexpectedEOF // the file shrank under us
		}
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *gitFile) Read(p []byte) (int, error) {
	if f.pos >= f.size {
		return 0, io.EOF
	}
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *gitFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	}
	if offset < 0 {
		return f.pos, &os.PathError{Op: "seek", Path: f.name, Err: os.ErrInvalid}
	}
	f.pos = offset
	return offset, nil
}

func (f *gitFile) Write([]byte) (int, error) { return 0, errReadOnly }
func (f *gitFile) Truncate(int64) error      { return errReadOnly }
func (f *gitFile) Close() error              { return nil }
func (f *gitFile) Lock() error               { return nil }
func (f *gitFile) Unlock() error             { return nil }

// statInfo is a context file's stat as an os.FileInfo.
type statInfo struct{ st *fstypes.Stat }

func (s statInfo) Name() string       { return path.Base(s.st.Path) }
func (s statInfo) Size() int64        { return s.st.Size }
func (s statInfo) Mode() os.FileMode  { return os.FileMode(s.st.Mode) }
func (s statInfo) ModTime() time.Time { return time.Unix(0, s.st.ModTime) }
func (s statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s statInfo) Sys() any           { return s.st }
