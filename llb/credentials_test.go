package llb

import (
	"testing"

	"github.com/moby/buildkit/solver/pb"
)

// TestCredentialsAreMountsNotFiles: the netrc secret and the SSH agent are
// mounts that BuildKit keeps out of layers and cache keys; optional, so a
// build without them still runs.
func TestCredentialsAreMountsNotFiles(t *testing.T) {
	steps, _ := convert(t, testSpec, "linux/amd64", nil)
	for _, name := range []string{"go mod download", StepGoBuild("linux/amd64", "./cmd/server")} {
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
		if !secret || !ssh || env(exec)["NETRC"] != netrcPath {
			t.Errorf("%s: secret=%v ssh=%v env=%v", name, secret, ssh, env(exec))
		}
	}
}
