package llb

import bkllb "github.com/moby/buildkit/client/llb"

// Where credentials for private modules appear in go commands. They are
// mounted, never copied: BuildKit keeps secrets and the SSH agent out of
// layers, cache keys and logs.
const (
	NetrcSecretID   = "netrc"
	netrcPath       = "/run/secrets/netrc"
	sshAgentPath    = "/run/buildkit/ssh_agent"
	knownHostsNoted = "StrictHostKeyChecking=accept-new"
)

// clientCredentials mounts the client's "netrc" secret (--secret
// id=netrc,src=...) and its default SSH agent (--ssh default) when it
// offers them: go reads the first through NETRC for module proxies and
// HTTPS, git the second for ssh:// modules.
func clientCredentials() bkllb.RunOption {
	return runOptions(
		bkllb.AddSecret(netrcPath, bkllb.SecretID(NetrcSecretID), bkllb.SecretOptional),
		bkllb.AddSSHSocket(bkllb.SSHID("default"), bkllb.SSHSocketTarget(sshAgentPath), bkllb.SSHOptional),
		credentialsEnv,
	)
}

// credentialsEnv points go and git at the mounts even where they are
// absent: NETRC at a missing file keeps go from reading a .netrc the
// builder image may hold, which the partition's helper never sees.
var credentialsEnv = runOptions(
	bkllb.AddEnv("NETRC", netrcPath),
	bkllb.AddEnv("SSH_AUTH_SOCK", sshAgentPath),
	bkllb.AddEnv("GIT_SSH_COMMAND", "ssh -o "+knownHostsNoted),
)

// credentials are the client's credentials in a step that fetches
// modules: none mounted in the shared partition, which the helper names
// only when the client offers none (an empty netrc, an agent without
// keys). So a build of the shared partition is one any client may run,
// and the frontend may start it before the partition's name comes back
// (frontend/partition.go).
func (opt Options) credentials() bkllb.RunOption {
	if opt.partitionName() == SharedPartition {
		return credentialsEnv
	}
	return clientCredentials()
}

// runOptionList applies several run options as one.
type runOptionList []bkllb.RunOption

func (l runOptionList) SetRunOption(ei *bkllb.ExecInfo) {
	for _, o := range l {
		o.SetRunOption(ei)
	}
}

func runOptions(opts ...bkllb.RunOption) bkllb.RunOption { return runOptionList(opts) }
