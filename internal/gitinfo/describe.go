package gitinfo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxCandidates is git describe's default --candidates.
const maxCandidates = 10

// Bounds on what a history may make describe read: far more than real
// repositories need (a commit object is a few hundred bytes; the Linux
// kernel has about 1.3 million commits), far less than a hostile one could
// ask. Past them the version is unknown, not the frontend's memory.
const (
	maxObjectSize = 16 << 20
	maxWalk       = 4 << 20
)

// readCommit reads commit h, refusing an object too large to be a
// commit before go-git inflates it.
func readCommit(repo storer.EncodedObjectStorer, h plumbing.Hash) (*object.Commit, error) {
	if size, err := repo.EncodedObjectSize(h); err == nil && size > maxObjectSize {
		return nil, fmt.Errorf("reading commit %s: %d bytes is no commit", h, size)
	}
	c, err := object.GetCommit(repo, h)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", h, err)
	}
	return c, nil
}

// tagName is the tag git describe would name a commit by.
type tagName struct {
	name      string
	annotated bool
	// date is an annotated tag's tagger date: of two annotated tags of
	// one commit, git names the newer.
	date time.Time
	// misnamed: the tag object calls itself other than its ref (a release
	// candidate's tag re-tagged as the release); git then names it by the
	// object's name and always adds the distance and commit.
	misnamed bool
}

// repository is what describe needs of go-git's storage.
type repository interface {
	storer.EncodedObjectStorer
	storer.ReferenceStorer
	storer.ShallowStorer
}

// describe answers as git describe --tags --always does for commit head:
// the tag of head itself; else the best of the tags found walking the
// history newest first (the fewest commits not reachable from it, then
// the first found), with the number of those commits and the abbreviated
// commit; else the abbreviated commit. The walk and its tie-breaks are
// git's (builtin/describe.c), so both give the same answer; a shallow
// clone's history ends where the clone's does, as it does for git.
func describe(repo repository, head plumbing.Hash, abbrev func(plumbing.Hash) (string, error)) (string, error) {
	names, err := tagNames(repo)
	if err != nil {
		return "", err
	}
	if n, ok := names[head]; ok && !n.misnamed {
		return n.name, nil
	} else if ok {
		short, err := abbrev(head)
		return fmt.Sprintf("%s-0-g%s", n.name, short), err
	}
	if len(names) == 0 {
		// No tag to find: git walks the whole history for nothing; a
		// long one is a cost without an answer.
		return abbrev(head)
	}
	w, err := newWalk(repo)
	if err != nil {
		return "", err
	}
	best, depth, err := w.nearest(head, names)
	if err != nil {
		return "", err
	}
	short, err := abbrev(head)
	if err != nil || best == "" {
		return short, err
	}
	return fmt.Sprintf("%s-%d-g%s", best, depth, short), nil
}

// tagNames maps each tagged commit to the tag that names it.
func tagNames(repo repository) (map[plumbing.Hash]tagName, error) {
	refs, err := repo.IterReferences()
	if err != nil {
		return nil, err
	}
	var tags []*plumbing.Reference
	err = refs.ForEach(func(r *plumbing.Reference) error {
		if r.Name().IsTag() && r.Type() == plumbing.HashReference {
			tags = append(tags, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// git goes through the refs in name order, and of equals keeps the
	// first.
	slices.SortFunc(tags, func(a, b *plumbing.Reference) int { return strings.Compare(a.Name().String(), b.Name().String()) })
	names := map[plumbing.Hash]tagName{}
	for _, r := range tags {
		n := tagName{name: r.Name().Short()}
		target := r.Hash()
		for {
			if size, err := repo.EncodedObjectSize(target); err == nil && size > maxObjectSize {
				break // too large for a tag object: a blob or tree, no commit
			}
			obj, err := repo.EncodedObject(plumbing.AnyObject, target)
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				break // history this clone lacks: no walk reaches it
			}
			if err != nil {
				return nil, fmt.Errorf("tag %s: %w", n.name, err)
			}
			if obj.Type() != plumbing.TagObject {
				break // target is what the tag names
			}
			tag, err := object.DecodeTag(repo, obj)
			if err != nil {
				return nil, fmt.Errorf("tag %s: %w", n.name, err)
			}
			if !n.annotated {
				n.annotated, n.date = true, tag.Tagger.When
				if tag.Name != n.name {
					n.name, n.misnamed = tag.Name, true
				}
			}
			target = tag.Target
		}
		if old, ok := names[target]; ok && !replaces(old, n) {
			continue
		}
		names[target] = n
	}
	return names, nil
}

func replaces(old, n tagName) bool {
	if old.annotated != n.annotated {
		return n.annotated
	}
	return n.annotated && old.date.Before(n.date)
}

// commit is a commit as the walk sees it.
type commit struct {
	hash    plumbing.Hash
	time    int64
	parents []plumbing.Hash
	// flags: seen, and which candidates reach it (bit i+1 for the i-th).
	flags uint32
}

const seen = 1

type walk struct {
	repo    repository
	shallow map[plumbing.Hash]bool
	commits map[plumbing.Hash]*commit
}

func newWalk(repo repository) (*walk, error) {
	shallow, err := repo.Shallow()
	if err != nil {
		return nil, fmt.Errorf("reading the shallow commits: %w", err)
	}
	w := &walk{repo: repo, shallow: map[plumbing.Hash]bool{}, commits: map[plumbing.Hash]*commit{}}
	for _, h := range shallow {
		w.shallow[h] = true
	}
	return w, nil
}

// get reads a commit; the parents of a shallow clone's last commits are
// not there, so it has none.
func (w *walk) get(h plumbing.Hash) (*commit, error) {
	if c, ok := w.commits[h]; ok {
		return c, nil
	}
	if len(w.commits) >= maxWalk {
		return nil, fmt.Errorf("more than %d commits to walk from HEAD to a tag", maxWalk)
	}
	oc, err := readCommit(w.repo, h)
	if err != nil {
		return nil, err
	}
	c := &commit{hash: h, time: oc.Committer.When.Unix()}
	if !w.shallow[h] {
		c.parents = oc.ParentHashes
	}
	w.commits[h] = c
	return c, nil
}

// queue is git's commit list by date: newest first, equal dates in the
// order they came.
type queue []*commit

func (q *queue) push(c *commit) {
	i, _ := slices.BinarySearchFunc(*q, c.time, func(e *commit, t int64) int {
		if e.time >= t {
			return -1
		}
		return 1
	})
	*q = slices.Insert(*q, i, c)
}

func (q *queue) pop() *commit {
	c := (*q)[0]
	*q = (*q)[1:]
	return c
}

// visitParents queues c's unseen parents and passes c's flags on to all.
func (w *walk) visitParents(q *queue, c *commit) error {
	for _, h := range c.parents {
		p, err := w.get(h)
		if err != nil {
			return err
		}
		if p.flags&seen == 0 {
			q.push(p)
		}
		p.flags |= c.flags
	}
	return nil
}

type candidate struct {
	name  string
	depth int
	flag  uint32
	order int
}

// nearest is git's describe_commit walk from head: the best tag and its
// depth, or "" when no tag is reachable.
func (w *walk) nearest(head plumbing.Hash, names map[plumbing.Hash]tagName) (string, int, error) {
	start, err := w.get(head)
	if err != nil {
		return "", 0, err
	}
	start.flags = seen
	q := queue{start}
	var (
		cands     []*candidate
		annotated int
		gaveUp    *commit
		popped    int
	)
	for len(q) > 0 {
		c := q.pop()
		popped++
		if n, ok := names[c.hash]; ok {
			if len(cands) == maxCandidates {
				gaveUp = c
				break
			}
			t := &candidate{name: n.name, depth: popped - 1, flag: 1 << (len(cands) + 1), order: len(cands)}
			cands = append(cands, t)
			c.flags |= t.flag
			if n.annotated {
				annotated++
			}
		}
		for _, t := range cands {
			if c.flags&t.flag == 0 {
				t.depth++
			}
		}
		if annotated > 0 && len(q) == 0 && coveredByBest(c, cands) {
			break
		}
		if err := w.visitParents(&q, c); err != nil {
			return "", 0, err
		}
	}
	if len(cands) == 0 {
		return "", 0, nil
	}
	slices.SortStableFunc(cands, func(a, b *candidate) int {
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		return a.order - b.order
	})
	best := cands[0]
	if gaveUp != nil {
		q.push(gaveUp)
	}
	if err := w.finishDepth(&q, best); err != nil {
		return "", 0, err
	}
	return best.name, best.depth, nil
}

// coveredByBest reports whether c is reached by every candidate of the
// least depth: then, with nothing else queued, the walk cannot change the
// answer.
func coveredByBest(c *commit, cands []*candidate) bool {
	depth, within := cands[0].depth, uint32(0)
	for _, t := range cands {
		switch {
		case t.depth < depth:
			depth, within = t.depth, t.flag
		case t.depth == depth:
			within |= t.flag
		}
	}
	return c.flags&within == within
}

// finishDepth walks on until every queued commit is reachable from best,
// counting those that are not: best's depth is then the number of commits
// of head's history that are not in best's.
func (w *walk) finishDepth(q *queue, best *candidate) error {
	for len(*q) > 0 {
		c := q.pop()
		if c.flags&best.flag != 0 {
			if !slices.ContainsFunc(*q, func(o *commit) bool { return o.flags&best.flag == 0 }) {
				break
			}
		} else {
			best.depth++
		}
		if err := w.visitParents(q, c); err != nil {
			return err
		}
	}
	return nil
}
