package llb

import (
	"strconv"
	"strings"
	"time"

	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
)

// VCSFile is where VCS writes what git says of the context: the nearest
// tag (git describe), the commit and its time in seconds, a line each.
const VCSFile = "/vcs"

// VCS asks git in the builder about the context's .git directory, for the
// {{.Version}}, {{.Commit}} and {{.Date}} defaults. Only .git is mounted,
// so source edits do not re-run it, and a builder without git (or a
// context without history) leaves the file empty rather than failing.
func VCS(s *spec.Spec, opt Options) bkllb.State {
	gitDir := bkllb.Scratch().File(
		bkllb.Copy(opt.Context, "/.git", "/.git", &bkllb.CopyInfo{AllowEmptyWildcard: true}),
		bkllb.WithCustomName(StepCopyGitDir),
	)
	script := `g() { git -c safe.directory='*' --git-dir=/repo/.git "$@" 2>/dev/null; }
{ g describe --tags --always || echo; g rev-parse HEAD || echo; g log -1 --format=%ct || echo; } > /out` + VCSFile
	run := opt.Builder.Run(
		bkllb.Args([]string{"sh", "-c", script}),
		bkllb.AddMount("/repo", gitDir, bkllb.Readonly),
		bkllb.WithCustomName(StepGitDescribe),
	)
	return run.AddMount("/out", bkllb.Scratch())
}

// VCSInfo is what VCS found out; empty fields are unknown.
type VCSInfo struct {
	// Version is git describe's answer: the nearest tag, else the commit.
	Version string
	Commit  string
	// CommitTime is the commit's time, in UTC.
	CommitTime *time.Time
}

// ParseVCS reads the VCSFile that VCS wrote. Missing lines are empty, and
// a time that is not a number of seconds is unknown.
func ParseVCS(data []byte) VCSInfo {
	lines := strings.Split(string(data), "\n")
	for len(lines) < 3 {
		lines = append(lines, "")
	}
	info := VCSInfo{Version: lines[0], Commit: lines[1]}
	if sec, err := strconv.ParseInt(lines[2], 10, 64); err == nil {
		t := time.Unix(sec, 0).UTC()
		info.CommitTime = &t
	}
	return info
}
