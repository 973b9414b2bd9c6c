package llb

import (
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

// The netrc secret and the SSH agent are mounts that BuildKit keeps out
// of layers and cache keys; optional, so a build without them still runs.
// A build in the shared partition, which the helper names only for a
// client without credentials, mounts none: any client may run it.
func TestCredentialsAreMountsNotFiles(t *testing.T) {
	const private = "p-0123456789abcdef0123456789abcdef"
	imported := func(partition string) func(*Options) {
		return func(o *Options) {
			o.ModulePartition, o.CacheImported, o.ModulePath = partition, true, "example.com/x"
			o.Imports = ReadImports(depsTestFiles)
		}
	}
	for _, tc := range []struct {
		name, partition string
		want            bool
	}{
		{"a partition of its own", private, true},
		{"the shared partition", SharedPartition, false},
		{"no partition asked for: the shared one", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, _ := convert(t, testSpec, "linux/amd64", imported(tc.partition))
			for _, name := range []string{"go mod download", StepGoBuild("linux/amd64", "./cmd/server"), StepDependencies("linux/amd64", "./cmd/server")} {
				exec := findStep(t, steps, name).GetExec()
				var secret, ssh bool
				for _, m := range exec.Mounts {
					switch m.MountType {
					case pb.MountType_SECRET:
						secret = m.SecretOpt.ID == NetrcSecretID && m.SecretOpt.Optional && m.Dest == netrcPath
					case pb.MountType_SSH:
						ssh = m.SSHOpt.Optional
					}
				}
				if secret != tc.want || ssh != tc.want {
					t.Errorf("%s: secret=%v ssh=%v, want %v", name, secret, ssh, tc.want)
				}
				// Even with nothing mounted: a .netrc of the builder's,
				// which the partition's helper never sees, stays unread.
				if e := env(exec); e["NETRC"] != netrcPath || e["SSH_AUTH_SOCK"] != sshAgentPath {
					t.Errorf("%s: NETRC=%q SSH_AUTH_SOCK=%q, want the mounts' paths", name, e["NETRC"], e["SSH_AUTH_SOCK"])
				}
			}
		})
	}
}

// A build is shared unless the client offers credentials only when the
// spec, rendered, sets none of the settings that choose a partition.
func TestSharedUnlessCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		args       map[string]string
		want       bool
	}{
		{"defaults", testSpec, nil, true},
		{"goflags decide no fetch", "version: 1\ngoflags: -mod=mod\nbinaries:\n  - package: ./cmd/server\n", nil, true},
		{"goproxy", "version: 1\ngoproxy: https://proxy.example\nbinaries:\n  - package: ./cmd/server\n", nil, false},
		{"goprivate", "version: 1\ngoprivate: example.com/private\nbinaries:\n  - package: ./cmd/server\n", nil, false},
		{"GOSUMDB in env", "version: 1\nenv: {GOSUMDB: sum.example}\nbinaries:\n  - package: ./cmd/server\n", nil, false},
		{"templated, from a build-arg", "version: 1\ngoproxy: \"{{.Args.PROXY}}\"\nbinaries:\n  - package: ./cmd/server\n", map[string]string{"PROXY": "https://proxy.example"}, false},
		{"templated, empty", "version: 1\ngoproxy: \"{{.Args.PROXY}}\"\nbinaries:\n  - package: ./cmd/server\n", map[string]string{"PROXY": ""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, opt := testInput(t, tc.spec, "linux/amd64", func(o *Options) { o.Args = tc.args })
			got, err := SharedUnlessCredentials(s, opt)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("SharedUnlessCredentials = %v, want %v", got, tc.want)
			}
		})
	}
}
