//go:build ignore

// Command modcache names a build's partition of the shared module cache,
// so that what one build downloads with its credentials never reaches a
// build that lacks them. The frontend builds it with the builder's own go
// (standard library only, so that any supported toolchain compiles it) and
// runs it with the client's credentials mounted:
//
//	modcache id FILE
//
// writes FILE with "shared" when the build has no credentials and the
// default module settings, so that public, checksum-database-verified
// modules are downloaded once for every project; otherwise with a name
// derived, slowly, from the credentials (the netrc secret, the SSH agent's
// public keys) and the settings that decide what go fetches and how it
// verifies it. The name never holds a secret.
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
	if len(args) != 2 || args[0] != "id" {
		return fmt.Errorf("usage: modcache id FILE")
	}
	return os.WriteFile(args[1], []byte(partition()), 0o644)
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
