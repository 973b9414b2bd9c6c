//go:build ignore

// The id command names a build's partition of the shared module cache,
// so that what one build downloads with its credentials never reaches a
// build that lacks them. The frontend runs it with the client's
// credentials mounted:
//
//	gobuild-helper id FILE SETTING...
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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sort"
	"time"
)

// idCommand writes the partition's name to FILE; SETTING... are the
// environment variables that decide what go fetches and how it checks
// it (the frontend's list, which also tells which builds are shared).
func idCommand(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: gobuild-helper id FILE SETTING...")
	}
	name, err := partition(args[1:])
	if err != nil {
		return err
	}
	return os.WriteFile(args[0], []byte(name), 0o644)
}

// partition fails rather than guess: credentials it could not read would
// otherwise put their modules where builds without them look.
func partition(settings []string) (string, error) {
	var material []byte
	for _, k := range settings {
		if v := os.Getenv(k); v != "" {
			material = append(material, k+"="+v+"\x00"...)
		}
	}
	if netrc := os.Getenv("NETRC"); netrc != "" {
		data, err := os.ReadFile(netrc)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return "", fmt.Errorf("reading the netrc secret: %w", err)
		case len(data) > 0:
			material = append(append(material, "netrc\x00"...), data...)
		}
	}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		keys, err := agentKeys(sock)
		if err != nil {
			return "", fmt.Errorf("asking the SSH agent for its keys: %w", err)
		}
		for _, k := range keys {
			material = append(append(material, "\x00ssh\x00"...), k...)
		}
	}
	if len(material) == 0 {
		return "shared", nil
	}
	return "p-" + hex.EncodeToString(pbkdf2(material, []byte("gobuild module cache partition v1"), 100_000))[:32], nil
}

// agentKeys asks the SSH agent at sock for its public keys (the agent
// protocol's REQUEST_IDENTITIES), sorted: none when no agent is there.
func agentKeys(sock string) ([][]byte, error) {
	if _, err := os.Stat(sock); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // the client offered no agent
	}
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	const requestIdentities, identitiesAnswer = 11, 12
	if _, err := conn.Write([]byte{0, 0, 0, 1, requestIdentities}); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 5 || n > 1<<20 {
		return nil, fmt.Errorf("an answer of %d bytes", n)
	}
	answer := make([]byte, n)
	if _, err := io.ReadFull(conn, answer); err != nil {
		return nil, err
	}
	if answer[0] != identitiesAnswer {
		return nil, fmt.Errorf("answer type %d, not the identities", answer[0])
	}
	count, rest := binary.BigEndian.Uint32(answer[1:5]), answer[5:]
	var keys [][]byte
	for i := uint32(0); i < count; i++ {
		var blob []byte
		var ok bool
		if blob, rest, ok = agentString(rest); !ok {
			return nil, errors.New("a malformed identities answer")
		}
		if _, rest, ok = agentString(rest); !ok { // the comment
			return nil, errors.New("a malformed identities answer")
		}
		keys = append(keys, blob)
	}
	sort.Slice(keys, func(i, j int) bool { return string(keys[i]) < string(keys[j]) })
	return keys, nil
}

// agentString splits the agent protocol's length-prefixed string off b.
func agentString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
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
