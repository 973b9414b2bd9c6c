package spec

import (
	"maps"
	"slices"
	"testing"
)

// readmeSpec is the spec at the top of the README.
const readmeSpec = "version: 1\nbinaries:\n  - package: ./cmd/server\n    ldflags: [\"-X main.version={{.Version}}\"]\nimage:\n  ports: [8080]\n"

// TestLint: each rule fires where it should, at the line it should, and
// stays quiet where it should not. Every rule of LintRules has a case that
// fires it.
func TestLint(t *testing.T) {
	const pinned = "builder: golang:1.26@sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
	const a = "binaries: [{package: ./cmd/a}]\n"
	// none is a context with .git and a client that gives no stamp, the
	// usual local build; ignored has .dockerignore drop .git.
	none := LintInput{}
	ignored := LintInput{Dockerignore: []string{".git"}}
	allGiven := VCSGiven{Version: true, Commit: true, Date: true}
	cases := []struct {
		name string
		spec string
		in   LintInput
		// want maps each expected rule to its line; rules not listed must
		// not fire.
		want map[string]int
	}{
		{"clean", "version: 1\n" + pinned + a, none, nil},
		// The README's minimal spec: the default builder is the frontend's
		// choice, and .git gives {{.Version}} when VERSION is not passed.
		{"readme minimal", readmeSpec, none, nil},
		{"floating builder", "version: 1\nbuilder: golang:1.26\n" + a, none, map[string]int{"FloatingImage": 2}},
		{"default builder not the user's", "version: 1\n" + a, none, nil},
		{"go set, default builder", "version: 1\ngo: \"1.26\"\n" + a, none, nil},
		{"latest base", "version: 1\n" + pinned + a + "image:\n  base: alpine\n", none, map[string]int{"LatestTag": 5}},
		{"latest builder tag", "version: 1\nbuilder: golang:latest\n" + a, none, map[string]int{"LatestTag": 2}},
		{"pinned base", "version: 1\n" + pinned + a + "image:\n  base: alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", none, nil},
		{"static base set", "version: 1\n" + pinned + a + "image:\n  base: static\n", none, nil},
		{"floating platform base", "version: 1\n" + pinned + a + "image:\n  bases:\n    linux/s390x: alpine:3.20\n", none, map[string]int{"FloatingImage": 6}},
		{"root user", "version: 1\n" + pinned + a + "image:\n  user: root\n", none, map[string]int{"RunsAsRoot": 5}},
		{"root uid with group", "version: 1\n" + pinned + a + "image:\n  user: \"0:0\"\n", none, map[string]int{"RunsAsRoot": 5}},
		{"nonroot user", "version: 1\n" + pinned + a + "image:\n  user: \"1000\"\n", none, nil},
		{"cgo dynamic", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    cgo: true\nimage:\n  base: gcr.io/distroless/base-debian12@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", none, map[string]int{"CgoDynamicLink": 5}},
		{"cgo static", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    cgo: true\n    ldflags: [-linkmode=external, -extldflags=-static]\n", none, nil},
		// .git is read for every stamp the client does not give; the
		// frontend keeps it out of every other view itself.
		{"git read for the version", "version: 1\n" + pinned + a, none, nil},
		{"git read but ignored", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    ldflags: [\"-X main.v={{.Version}}\"]\n", ignored, map[string]int{"GitDirIgnored": 5}},
		{"git ignored with a pattern", "version: 1\n" + pinned + a, LintInput{Dockerignore: []string{"/**/.git/"}}, map[string]int{"GitDirIgnored": 1}},
		{"only the date from git", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    ldflags: [\"-X main.v={{.Version}}\", \"-X main.d={{.Date}}\"]\n",
			LintInput{Dockerignore: []string{".git"}, Given: VCSGiven{Version: true, Commit: true}}, map[string]int{"GitDirIgnored": 5}},
		{"nothing from git, ignored", "version: 1\n" + pinned + a, LintInput{Dockerignore: []string{".git"}, Given: allGiven}, nil},
		{"nothing from git, sent", "version: 1\n" + pinned + a, LintInput{Given: allGiven}, nil},
		{"buildvcs needs git", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    buildvcs: true\n", ignored, map[string]int{"BuildvcsWithoutGit": 4}},
		{"buildvcs needs git even with every stamp", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    buildvcs: true\n",
			LintInput{Dockerignore: []string{".git"}, Given: allGiven}, map[string]int{"BuildvcsWithoutGit": 4}},
		{"buildvcs with git", "version: 1\n" + pinned + "binaries:\n  - package: ./cmd/a\n    buildvcs: true\n", none, nil},
		{"entrypoint not built", "version: 1\n" + pinned + a + "image:\n  entrypoint: [/usr/local/bin/b]\n", none, map[string]int{"EntrypointNotBinary": 5}},
		{"entrypoint elsewhere", "version: 1\n" + pinned + a + "image:\n  entrypoint: [/bin/tini, /usr/local/bin/a]\n", none, nil},
		{"privileged port", "version: 1\n" + pinned + a + "image:\n  ports: [8080, 443]\n", none, map[string]int{"PrivilegedPort": 5}},
		{"unwritable dir", "version: 1\n" + pinned + a + "image:\n  dirs:\n    - {path: /data, owner: '0'}\n", none, map[string]int{"UnwritableDir": 6}},
		{"privileged udp port", "version: 1\n" + pinned + a + "image:\n  ports:\n    - 53/udp\n", none, map[string]int{"PrivilegedPort": 6}},
		{"privileged port as root", "version: 1\n" + pinned + a + "image:\n  user: root\n  ports: [443]\n", none, map[string]int{"RunsAsRoot": 5}},
		{"unprivileged ports", "version: 1\n" + pinned + a + "image:\n  ports: [1024, 8443/tcp]\n", none, nil},
		{"zoneinfo tree in env", "version: 1\n" + pinned + a + "image:\n  env:\n    TZDIR: /usr/share/zoneinfo\n", none, map[string]int{"ZoneinfoTree": 6}},
		{"zoneinfo file in cmd", "version: 1\n" + pinned + a + "image:\n  cmd: [--tz-file=/usr/share/zoneinfo/Europe/Paris]\n", none, map[string]int{"ZoneinfoTree": 5}},
		{"zoneinfo in healthcheck", "version: 1\n" + pinned + a + "image:\n  healthcheck:\n    command:\n      - /usr/local/bin/a\n      - /usr/share/zoneinfo/UTC\n", none, map[string]int{"ZoneinfoTree": 8}},
		{"zoneinfo zip", "version: 1\n" + pinned + a + "image:\n  env:\n    ZONEINFO: /usr/share/zoneinfo.zip\n", none, nil},
		{"zoneinfo tree in a base with it", "version: 1\n" + pinned + a + "image:\n  base: debian@sha256:0000000000000000000000000000000000000000000000000000000000000000\n  env:\n    TZDIR: /usr/share/zoneinfo\n", none, nil},
		{"zoneinfo tree unpacked", "version: 1\n" + pinned + a + "image:\n  zoneinfotree: true\n  env:\n    TZDIR: /usr/share/zoneinfo\n", none, nil},
	}
	fired := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.spec)
			if err := s.FillDefaults([]byte(goMod126)); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, f := range Lint(s, tc.in) {
				got[f.Rule] = f.Pos.Line
				fired[f.Rule] = true
				if f.Description != LintRules[f.Rule] || f.Detail == "" {
					t.Errorf("%s: description %q, detail %q", f.Rule, f.Description, f.Detail)
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("findings (rule: line) = %v, want %v", got, tc.want)
			}
		})
	}
	for _, rule := range slices.Sorted(maps.Keys(LintRules)) {
		if !fired[rule] {
			t.Errorf("rule %s has no case that fires it", rule)
		}
	}
}

// TestLintOnUnfilledSpec: lint never panics on what Parse accepts, even
// before the defaults are filled (a --call=check without go.mod).
func TestLintOnUnfilledSpec(t *testing.T) {
	s := mustParse(t, "version: 1\nbinaries: [{package: ./cmd/a}]\n")
	for _, f := range Lint(s, LintInput{}) {
		t.Errorf("unexpected finding %+v", f)
	}
}
