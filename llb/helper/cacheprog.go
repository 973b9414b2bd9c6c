//go:build ignore

// The cacheprog command is go build's build cache when dependency layers
// are mounted and the toolchain reads GOCACHEPROG (Go 1.24 and later):
//
//	GOCACHEPROG="gobuild-helper cacheprog DIR..." go build ...
//
// It answers go's requests (the protocol of cmd/go/internal/cacheprog)
// from the layers made by export first, where each entry is read in
// place, then from $GOCACHE; it writes new entries into $GOCACHE as go's
// own cache does, so that a go command without it (the export step)
// reads them. A fresh builder then starts go build as soon as the layers
// are unpacked, rather than after the seed copied their entries into an
// empty cache: the same files made twice.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cacheRequest and cacheResponse are go's Request and Response, with the
// fields this program reads or writes.
type cacheRequest struct {
	ID       int64
	Command  string
	ActionID []byte `json:",omitempty"`
	OutputID []byte `json:",omitempty"`
	BodySize int64  `json:",omitempty"`
}

type cacheResponse struct {
	ID            int64
	Err           string     `json:",omitempty"`
	KnownCommands []string   `json:",omitempty"`
	Miss          bool       `json:",omitempty"`
	OutputID      []byte     `json:",omitempty"`
	Size          int64      `json:",omitempty"`
	Time          *time.Time `json:",omitempty"`
	DiskPath      string     `json:",omitempty"`
}

func cacheprogCommand(layers []string) error {
	cache := os.Getenv("GOCACHE")
	if cache == "" {
		return errors.New("GOCACHE is not set")
	}
	return serveCache(os.Stdin, os.Stdout, cache, layers)
}

// serveCache answers go's requests one at a time: a get is a file read,
// far shorter than the compile go runs beside it.
func serveCache(in io.Reader, out io.Writer, cache string, layers []string) error {
	dec := json.NewDecoder(bufio.NewReader(in))
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	send := func(res cacheResponse) error {
		if err := enc.Encode(res); err != nil {
			return err
		}
		return w.Flush()
	}
	if err := send(cacheResponse{KnownCommands: []string{"get", "put", "close"}}); err != nil {
		return err
	}
	// Counted for the step's log, which says whether the layers served.
	var fromLayers, fromCache, missed int
	for {
		var req cacheRequest
		if err := dec.Decode(&req); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading go's request: %w", err)
		}
		var body []byte
		if req.Command == "put" && req.BodySize > 0 {
			// The body follows as a JSON string, base64 as []byte decodes.
			if err := dec.Decode(&body); err != nil {
				return fmt.Errorf("reading the body of request %d: %w", req.ID, err)
			}
		}
		res := cacheResponse{ID: req.ID}
		var err error
		switch req.Command {
		case "get":
			var inLayer bool
			res, inLayer, err = getEntry(cache, layers, req.ActionID)
			res.ID = req.ID
			switch {
			case err != nil || res.Miss:
				missed++
			case inLayer:
				fromLayers++
			default:
				fromCache++
			}
		case "put":
			res.DiskPath, err = putEntry(cache, req, body)
		case "close":
			fmt.Fprintf(os.Stderr, "gobuild-helper: %d build cache entries read from the dependency layers, %d from the build cache, %d missing\n", fromLayers, fromCache, missed)
			return send(res)
		default:
			err = fmt.Errorf("unknown command %q", req.Command)
		}
		if err != nil {
			res = cacheResponse{ID: req.ID, Err: err.Error()}
		}
		if err := send(res); err != nil {
			return err
		}
	}
}

// indexEntryLen is the length of go's index entry:
// "v1 <action hex> <output hex> <size, 20 wide> <time, 20 wide>\n".
const indexEntryLen = 2 + 1 + 64 + 1 + 64 + 1 + 20 + 1 + 20 + 1

// getEntry looks the action up in each layer, whose entries are flat, then
// in the cache, where go keeps them under their first two hex digits, and
// says whether a layer had it. An entry whose output is missing or of
// another size is a miss, as in go.
func getEntry(cache string, layers []string, actionID []byte) (_ cacheResponse, inLayer bool, _ error) {
	if len(actionID) != sha256.Size {
		return cacheResponse{}, false, fmt.Errorf("action ID of %d bytes", len(actionID))
	}
	action := hex.EncodeToString(actionID)
	for _, dir := range layers {
		if res, ok := readEntry(filepath.Join(dir, action+"-a"), action, func(output string) string {
			return filepath.Join(dir, output+"-d")
		}); ok {
			return res, true, nil
		}
	}
	index := filepath.Join(cache, action[:2], action+"-a")
	res, ok := readEntry(index, action, func(output string) string {
		return filepath.Join(cache, output[:2], output+"-d")
	})
	if !ok {
		return cacheResponse{Miss: true}, false, nil
	}
	markUsed(index)
	markUsed(res.DiskPath)
	return res, false, nil
}

func readEntry(index, action string, outputPath func(output string) string) (cacheResponse, bool) {
	data, err := os.ReadFile(index)
	if err != nil || len(data) != indexEntryLen || !bytes.HasPrefix(data, []byte("v1 "+action+" ")) || data[len(data)-1] != '\n' {
		return cacheResponse{}, false
	}
	output := string(data[3+64+1 : 3+64+1+64])
	outputID, err := hex.DecodeString(output)
	if err != nil {
		return cacheResponse{}, false
	}
	size, err := strconv.ParseInt(string(bytes.TrimLeft(data[3+64+1+64+1:3+64+1+64+1+20], " ")), 10, 64)
	if err != nil || size < 0 {
		return cacheResponse{}, false
	}
	nanos, err := strconv.ParseInt(string(bytes.TrimLeft(data[3+64+1+64+1+20+1:indexEntryLen-1], " ")), 10, 64)
	if err != nil {
		return cacheResponse{}, false
	}
	path := outputPath(output)
	if info, err := os.Stat(path); err != nil || info.Size() != size {
		return cacheResponse{}, false
	}
	t := time.Unix(0, nanos)
	return cacheResponse{OutputID: outputID, Size: size, Time: &t, DiskPath: path}, true
}

// markUsed keeps an entry go builds read from being trimmed by a go
// command that reads the cache itself, as go marks it: its time, at most
// hourly.
func markUsed(file string) {
	now := time.Now()
	if info, err := os.Stat(file); err == nil && now.Sub(info.ModTime()) > time.Hour {
		os.Chtimes(file, now, now)
	}
}

// putEntry writes the output, then its index entry, into the cache, each
// under a temporary name then renamed, so that a go command beside this
// one never reads half of either.
func putEntry(cache string, req cacheRequest, body []byte) (string, error) {
	if len(req.ActionID) != sha256.Size || len(req.OutputID) != sha256.Size {
		return "", errors.New("put without a whole action and output ID")
	}
	if int64(len(body)) != req.BodySize {
		return "", fmt.Errorf("body of %d bytes, announced %d", len(body), req.BodySize)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], req.OutputID) {
		return "", errors.New("body does not match its output ID")
	}
	action, output := hex.EncodeToString(req.ActionID), hex.EncodeToString(req.OutputID)
	path := filepath.Join(cache, output[:2], output+"-d")
	// Outputs are named by their content: one already there is this one.
	if info, err := os.Stat(path); err != nil || info.Size() != int64(len(body)) {
		if err := writeCacheFile(path, body); err != nil {
			return "", err
		}
	}
	entry := fmt.Sprintf("v1 %s %s %20d %20d\n", action, output, len(body), time.Now().UnixNano())
	if err := writeCacheFile(filepath.Join(cache, action[:2], action+"-a"), []byte(entry)); err != nil {
		return "", err
	}
	return path, nil
}

func writeCacheFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gobuild-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
