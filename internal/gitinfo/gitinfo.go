// Package gitinfo reads what a build stamps from a git directory: the
// commit checked out, its time, and the version git describe --tags
// --always gives. It reads any billy filesystem, so the frontend reads a
// build context's .git through the BuildKit gateway without git in the
// builder image, and the tests read one on disk.
//
// It is built on go-git's storage, which reads loose objects, packs,
// packed-refs and shallow files as git writes them; describe.go is git's
// own describe algorithm on top of it.
package gitinfo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/helper/polyfill"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Info is what a git directory says of its checkout. Empty fields are
// unknown; Read's error says why.
type Info struct {
	// Commit is HEAD's commit, in full.
	Commit string
	// CommitTime is HEAD's committer time, in UTC.
	CommitTime *time.Time
	// Version is what git describe --tags --always answers: the nearest
	// tag, with the distance and the abbreviated commit when HEAD is not
	// tagged, else the abbreviated commit.
	Version string
}

// Read reads the git directory at the root of fs. It returns what it
// could read and an error for the rest: a HEAD it cannot resolve leaves
// everything unknown, a history it cannot walk (a missing or corrupt
// object) leaves Version unknown.
func Read(fs billy.Basic) (Info, error) {
	var info Info
	st := filesystem.NewStorageWithOptions(polyfill.New(fs), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	defer st.Close()
	head, err := storer.ResolveReference(st, plumbing.HEAD)
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return info, errors.New("HEAD names no commit (an empty repository?)")
		}
		return info, fmt.Errorf("reading HEAD: %w", err)
	}
	info.Commit = head.Hash().String()
	c, err := readCommit(st, head.Hash())
	if err != nil {
		return info, err
	}
	t := c.Committer.When.UTC()
	info.CommitTime = &t
	version, err := describe(st, head.Hash(), func(h plumbing.Hash) (string, error) { return abbrev(fs, st, h) })
	if err != nil {
		return info, fmt.Errorf("describing commit %s: %w", info.Commit, err)
	}
	info.Version = version
	return info, nil
}

// abbrev abbreviates h as git does by default: to a length that grows
// with the number of packed objects (7 up to 2^13 of them), and further
// until no other object shares the prefix.
func abbrev(fs billy.Basic, st *filesystem.Storage, h plumbing.Hash) (string, error) {
	count, err := packedObjects(fs)
	if err != nil {
		return "", err
	}
	n := max(7, (bits.Len64(count)+1)/2)
	others, err := st.HashesWithPrefix(h[:3])
	if err != nil {
		return "", err
	}
	full := h.String()
	for _, o := range others {
		if o == h {
			continue
		}
		common := 0
		for s := o.String(); common < len(full) && s[common] == full[common]; common++ {
		}
		n = max(n, common+1)
	}
	return full[:min(n, len(full))], nil
}

// packedObjects counts the objects of every pack from the last entry of
// its index's fan-out table, as git's approximate object count does.
func packedObjects(fs billy.Basic) (uint64, error) {
	dir, ok := fs.(billy.Dir)
	if !ok {
		return 0, nil
	}
	entries, err := dir.ReadDir("objects/pack")
	if err != nil {
		return 0, nil // no packs
	}
	var count uint64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".idx") {
			continue
		}
		n, err := idxCount(fs, path.Join("objects/pack", e.Name()))
		if err != nil {
			return 0, err
		}
		count += n
	}
	return count, nil
}

func idxCount(fs billy.Basic, name string) (uint64, error) {
	f, err := fs.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// Version 2: a 4-byte magic, a 4-byte version, 256 4-byte counts.
	// Version 1 has no header.
	var hdr [8 + 256*4]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	last := hdr[255*4:]
	if string(hdr[:4]) == "\xfftOc" {
		last = hdr[8+255*4:]
	}
	return uint64(binary.BigEndian.Uint32(last)), nil
}
