package llb

import (
	"testing"
	"time"
)

func TestParseVCS(t *testing.T) {
	at := func(sec int64) *time.Time { t := time.Unix(sec, 0).UTC(); return &t }
	cases := []struct {
		name string
		data string
		want VCSInfo
	}{
		{"tagged", "v1.2.3-4-gabcdef0\nabcdef0123456789\n1700000000\n", VCSInfo{"v1.2.3-4-gabcdef0", "abcdef0123456789", at(1700000000)}},
		{"no trailing newline", "v1.0.0\nabc\n1700000000", VCSInfo{"v1.0.0", "abc", at(1700000000)}},
		// git without history (or no git at all) echoes empty lines.
		{"no history", "\n\n\n", VCSInfo{}},
		{"empty file", "", VCSInfo{}},
		{"version only", "abcdef0", VCSInfo{Version: "abcdef0"}},
		{"time not a number", "v1\nabc\nyesterday\n", VCSInfo{"v1", "abc", nil}},
		{"negative time", "v1\nabc\n-1\n", VCSInfo{"v1", "abc", at(-1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseVCS([]byte(tc.data))
			if got.Version != tc.want.Version || got.Commit != tc.want.Commit {
				t.Errorf("ParseVCS(%q) = %q, %q; want %q, %q", tc.data, got.Version, got.Commit, tc.want.Version, tc.want.Commit)
			}
			switch {
			case (got.CommitTime == nil) != (tc.want.CommitTime == nil):
				t.Errorf("ParseVCS(%q).CommitTime = %v, want %v", tc.data, got.CommitTime, tc.want.CommitTime)
			case got.CommitTime != nil && (!got.CommitTime.Equal(*tc.want.CommitTime) || got.CommitTime.Location() != time.UTC):
				t.Errorf("ParseVCS(%q).CommitTime = %v, want %v in UTC", tc.data, got.CommitTime, tc.want.CommitTime)
			}
		})
	}
}
