//go:build ignore

// The export and seed commands carry the compiled form of a build's dependencies from
// go's build cache into a layer, and back. BuildKit never exports cache
// mounts, so on a builder that starts empty (hosted CI with a registry
// cache) every go build would compile the standard library and every
// dependency again; a layer travels with --cache-to and --cache-from. The
// frontend runs them as:
//
//	gobuild-helper export [-from DIR] OUT [go list flags] -- PACKAGE...
//
// compiles the packages (after the last --: no import path is --) and
// everything they import into $GOCACHE (the builder's persistent build
// cache, so only what is missing compiles) with go list -export, then
// copies exactly those cache entries, each action's index file and its
// output, into OUT. With -from, the entries of the layer DIR are copied
// into $GOCACHE first and left out of OUT. Packages go cannot load (a file
// excluded for the target, a package of a local module) are left out: a
// missing entry costs a compile, never a wrong build.
//
//	gobuild-helper seed DIR... -- COMMAND...
//
// copies the entries of layers made by export into $GOCACHE where they are
// missing, then runs COMMAND in its place. A marker per layer in $GOCACHE
// makes the copy happen once per builder.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// stampFile names a layer's content: a digest of its entries' names,
// which are digests of their content themselves.
const stampFile = "gobuild-stamp"

// seededDir holds, in $GOCACHE, a marker for each layer already copied in.
// go's cache trimming looks only in its two-hex-digit directories.
const seededDir = "gobuild-seeded"

func gocacheCommand(command string, args []string) error {
	const usage = "usage: gobuild-helper export [-from DIR] OUT [flags] -- PACKAGE... | gobuild-helper seed DIR... -- COMMAND..."
	cache := os.Getenv("GOCACHE")
	if cache == "" {
		return fmt.Errorf("GOCACHE is not set")
	}
	switch command {
	case "export":
		var from string
		if len(args) >= 2 && args[0] == "-from" {
			from, args = args[1], args[2:]
		}
		sep := -1
		for i, arg := range args {
			if arg == "--" {
				sep = i
			}
		}
		if sep < 1 || sep == len(args)-1 {
			return errors.New(usage)
		}
		if from != "" {
			if err := seed(cache, from); err != nil {
				// go list compiles what the copy would have brought.
				fmt.Fprintln(os.Stderr, "gobuild-helper: the compiled standard library was not copied in:", err)
			}
		}
		return export(cache, from, args[0], args[1:sep], args[sep+1:])
	case "seed":
		sep := slices.Index(args, "--")
		if sep < 1 || sep == len(args)-1 {
			return errors.New(usage)
		}
		for _, dir := range args[:sep] {
			if err := seed(cache, dir); err != nil {
				// The layer only saves compiling; go build works without it.
				fmt.Fprintln(os.Stderr, "gobuild-helper: the compiled dependencies were not copied in:", err)
			}
		}
		return execInPlace(args[sep+1:])
	}
	return errors.New(usage)
}

// export compiles packages with go list -export and copies their cache
// entries to out. go list fails for a package it cannot build; the others
// are still listed, and exported.
func export(cache, from, out string, flags, packages []string) error {
	args := append([]string{"list", "-e", "-export", "-deps",
		"-f", "{{if not (or .Error .DepsErrors)}}{{.BuildID}} {{.Export}}{{end}}"}, flags...)
	cmd := exec.Command("go", append(args, packages...)...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "gobuild-helper: go list:", err, "(the packages it listed are exported)")
	}
	var names []string
	scanner := bufio.NewScanner(&stdout)
	for scanner.Scan() {
		buildID, output, ok := strings.Cut(scanner.Text(), " ")
		if !ok || output == "" {
			continue // a package with nothing compiled, such as unsafe
		}
		// A package left out costs go build a compile, so one that cannot
		// be copied (an entry trimmed meanwhile) is noted and skipped.
		copied, err := exportEntry(cache, from, out, buildID, output)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gobuild-helper: left out:", err)
		}
		names = append(names, copied...)
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	stamp := stampOf(names)
	if err := os.WriteFile(filepath.Join(out, stampFile), []byte(stamp), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gobuild-helper: %d files exported\n", len(names))
	// The entries came from this cache: it needs no copy of them.
	return mark(cache, stamp)
}

// exportEntry copies one package's compile output, then its index entry
// (so that a layer never has an index entry without its output), into
// out, unless the layer at from has them. It returns the names copied.
func exportEntry(cache, from, out, buildID, output string) ([]string, error) {
	index, err := indexFile(cache, buildID)
	if err != nil {
		return nil, err
	}
	var copied []string
	for _, file := range []string{output, index} {
		name, err := filepath.Rel(cache, file)
		if err != nil || strings.HasPrefix(name, "..") {
			return copied, fmt.Errorf("go list gave %s, outside GOCACHE %s", file, cache)
		}
		// Flat in the layer: no directory to make where it is unpacked.
		flat := filepath.Base(name)
		if from != "" {
			if _, err := os.Stat(filepath.Join(from, flat)); err == nil {
				continue // the other layer has it
			}
		}
		if err := copyFile(file, filepath.Join(out, flat)); err != nil {
			return copied, err
		}
		copied = append(copied, name)
	}
	return copied, nil
}

// indexFile is the cache's index entry of a compile action: go list gives
// a package's build ID, whose first part is the start of the action ID
// (120 bits, URL-safe base64); the entry is named by the whole ID in hex.
func indexFile(cache, buildID string) (string, error) {
	action, _, _ := strings.Cut(buildID, "/")
	prefix, err := base64.RawURLEncoding.DecodeString(action)
	if err != nil || len(prefix) < 2 {
		return "", fmt.Errorf("build ID %q: not a go build ID", buildID)
	}
	hexID := hex.EncodeToString(prefix)
	matches, err := filepath.Glob(filepath.Join(cache, hexID[:2], hexID+"*-a"))
	if err != nil {
		return "", err
	}
	if len(matches) != 1 {
		return "", fmt.Errorf("build ID %q: %d cache index entries match", buildID, len(matches))
	}
	return matches[0], nil
}

func stampOf(names []string) string {
	sort.Strings(names)
	sum := sha256.Sum256([]byte(strings.Join(names, "\n")))
	return hex.EncodeToString(sum[:])
}

// seed copies the layer's entries that cache lacks. Each file is written
// under a temporary name and renamed, so that a go build running beside
// this one never reads half an entry.
func seed(cache, dir string) error {
	stamp, err := os.ReadFile(filepath.Join(dir, stampFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // an empty layer: nothing was exported
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cache, seededDir, string(stamp))); err == nil {
		return nil
	}
	type entry struct{ from, to string }
	var missing []entry
	err = filepath.WalkDir(dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == stampFile || len(d.Name()) < 3 {
			return err
		}
		// go keeps an entry under the first two hex digits of its name;
		// the layer keeps it flat.
		to := filepath.Join(cache, d.Name()[:2], d.Name())
		if _, err := os.Stat(to); err != nil {
			missing = append(missing, entry{file, to})
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Making a file is mostly waiting for the disk, so a few copies at a
	// time take a fresh builder's cache from empty much sooner.
	const copiers = 8
	entries := make(chan entry)
	errs := make(chan error, copiers)
	for i := 0; i < copiers; i++ {
		go func() {
			var err error
			for e := range entries {
				if err == nil {
					err = copyFile(e.from, e.to)
				}
			}
			errs <- err
		}()
	}
	for _, e := range missing {
		entries <- e
	}
	close(entries)
	for i := 0; i < copiers; i++ {
		if copyErr := <-errs; copyErr != nil && err == nil {
			err = copyErr
		}
	}
	if err != nil {
		return err
	}
	copied := len(missing)
	fmt.Fprintf(os.Stderr, "gobuild-helper: %d compiled dependency files copied in\n", copied)
	return mark(cache, string(stamp))
}

func mark(cache, stamp string) error {
	if err := os.MkdirAll(filepath.Join(cache, seededDir), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cache, seededDir, stamp), nil, 0o644)
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), ".gobuild-*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), to)
}
