//go:build ignore

// Command modcache keeps what one build downloads from reaching another
// that may not have it. The frontend builds it with the builder's own go
// (standard library only, so that any supported toolchain compiles it).
//
//	modcache id FILE
//
// writes FILE with the name of this build's partition of the shared module
// cache: "shared" when the build has no credentials and the default module
// settings, so that public, checksum-database-verified modules are
// downloaded once for every project; otherwise a name derived, slowly, from
// the credentials (the netrc secret, the SSH agent's public keys) and the
// settings that decide what go fetches and how it verifies it. The name
// never holds a secret, and a build with other credentials or settings
// never finds another's private modules.
//
//	modcache run FILE ROOT -- go ...
//
// runs go with GOMODCACHE set to ROOT's partition named in FILE.
//
//	modcache copy FILE ROOT OUT -- go mod download ...
//
// downloads this module's dependencies from ROOT's partition (as a
// GOPROXY=file:// proxy, never the network) into OUT, for steps that run
// the user's code and so must not see the shared cache.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// settings decide what go fetches and how it checks it.
var settings = []string{"GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GONOSUMCHECK", "GOVCS", "GOAUTH"}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gobuild modcache:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "id":
		return os.WriteFile(args[1], []byte(partition()), 0o644)
	case len(args) > 4 && args[0] == "run" && args[3] == "--":
		name, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		return execGo(args[4:], "GOMODCACHE="+filepath.Join(args[2], string(name)))
	case len(args) > 5 && args[0] == "copy" && args[4] == "--":
		name, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		from := filepath.Join(args[2], string(name), "cache", "download")
		return execGo(args[5:], "GOMODCACHE="+args[3], "GOPROXY=file://"+from,
			// Private module paths too come from the partition, never from
			// their origin: this step has no credentials.
			"GONOPROXY=", "GOPRIVATE=", "GOFLAGS=-modcacherw")
	}
	return fmt.Errorf("usage: modcache id FILE | run FILE ROOT -- go ... | copy FILE ROOT OUT -- go ...")
}

// execGo replaces this process with the go command, env on top of ours.
// A variable set twice would keep its first value, so ours are dropped.
func execGo(args []string, env ...string) error {
	path, err := exec.LookPath(args[0])
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, kv := range env {
		set[strings.SplitN(kv, "=", 2)[0]] = true
	}
	var merged []string
	for _, kv := range os.Environ() {
		if !set[strings.SplitN(kv, "=", 2)[0]] {
			merged = append(merged, kv)
		}
	}
	return syscall.Exec(path, args, append(merged, env...))
}

func partition() string {
	var material []byte
	for _, k := range settings {
		if v := os.Getenv(k); v != "" {
			material = append(material, k+"="+v+"\x00"...)
		}
	}
	if netrc := os.Getenv("NETRC"); netrc != "" {
		if data, err := os.ReadFile(netrc); err == nil && len(data) > 0 {
			material = append(append(material, "netrc\x00"...), data...)
		}
	}
	if keys := agentKeys(os.Getenv("SSH_AUTH_SOCK")); len(keys) > 0 {
		material = append(append(material, "\x00ssh\x00"...), keys...)
	}
	if len(material) == 0 {
		return "shared"
	}
	return "p-" + hex.EncodeToString(pbkdf2(material, []byte("gobuild module cache partition v1"), 100_000))[:32]
}

// agentKeys asks the SSH agent at sock for its public keys (the agent
// protocol's REQUEST_IDENTITIES); nil when there is no agent.
func agentKeys(sock string) []byte {
	if sock == "" {
		return nil
	}
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	const requestIdentities = 11
	if _, err := conn.Write([]byte{0, 0, 0, 1, requestIdentities}); err != nil {
		return nil
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return nil
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 1<<20 {
		return nil
	}
	answer := make([]byte, n)
	if _, err := io.ReadFull(conn, answer); err != nil {
		return nil
	}
	return answer
}

// pbkdf2 is PBKDF2-HMAC-SHA256's first block: slow to invert, so a name
// derived from a short password does not give it away.
func pbkdf2(password, salt []byte, iterations int) []byte {
	prf := hmac.New(sha256.New, password)
	prf.Write(salt)
	prf.Write([]byte{0, 0, 0, 1})
	u := prf.Sum(nil)
	out := append([]byte(nil), u...)
	for i := 1; i < iterations; i++ {
		prf.Reset()
		prf.Write(u)
		u = prf.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out
}
