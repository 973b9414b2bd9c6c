package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"time"
)

// layerRows names the dependency layer table, for -scenario.
const layerRows = "dependency layers"

// layerSizes reports, per platform, the compressed size of what a
// registry cache of A carries and A0's does not (the dependency layers and
// the toolchain layer) and the reverse (the builder image's layers, which
// A's steps no longer run on), and the time A's layers add to a
// long-lived builder's cache export: the first export to an empty cache
// ref uploads them, one after an edit finds them in the registry.
func (b *bench) layerSizes(ctx context.Context, w io.Writer, m module, dir string) error {
	b.logf("-- %s, %s", layerRows, m.name)
	fmt.Fprintf(w, "Dependency layers (%s): `--cache-to type=registry,mode=max` (and `--cache-from`, as CI passes both) from a builder that has built the commit, A against A0 (compressed sizes).\n\n", m.name)
	fmt.Fprintf(w, "| platform | cache export A | cache export A0 | only in A's (dependency and toolchain layers) | only in A0's (builder image) | first export A / A0 | export after one edit A / A0 |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	edits := 2000
	var inA, inA0 []map[string]int64
	for _, platform := range allPlatforms[:2] {
		var blobs [2]map[string]int64
		var first, again [2]time.Duration
		for i, t := range []tool{toolA, toolA0} {
			b.daemons++
			ref := fmt.Sprintf("%s/bench-layers:%d", b.bed.Registry, b.daemons)
			r := buildRequest{tool: t, dir: dir, pkg: m.pkg, platforms: []string{platform}}
			if _, err := b.build(ctx, r); err != nil {
				return err
			}
			r.cacheTo, r.cacheFrom = ref, ref // as CI does, so the modules' layer is made
			tm, err := b.build(ctx, r)
			if err != nil {
				return err
			}
			first[i] = tm.cacheExport
			if blobs[i], err = b.cacheBlobs(ctx, ref); err != nil {
				return err
			}
			edits++
			if err := touch(dir, m.pkg, edits); err != nil {
				return err
			}
			if tm, err = b.build(ctx, r); err != nil {
				return err
			}
			again[i] = tm.cacheExport
		}
		inA, inA0 = append(inA, blobs[0]), append(inA0, blobs[1])
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2fs / %.2fs | %.2fs / %.2fs |\n", platform,
			megabytes(blobs[0], nil), megabytes(blobs[1], nil), megabytes(blobs[0], blobs[1]), megabytes(blobs[1], blobs[0]),
			first[0].Seconds(), first[1].Seconds(), again[0].Seconds(), again[1].Seconds())
	}
	// The toolchain layer is the build platform's: in A's export for
	// every target platform, in no export of A0.
	toolchain := map[string]int64{}
	for d, size := range inA[0] {
		if _, ok := inA[1][d]; ok {
			toolchain[d] = size
		}
	}
	fmt.Fprintf(w, "\nIn both platforms' A exports and neither of A0's (the toolchain layer and the like): %s.\n\n", megabytes(toolchain, merged(inA0...)))
	return nil
}

// megabytes is the size of the blobs of a that b lacks (all of a for nil b).
func megabytes(a, b map[string]int64) string {
	var total int64
	for d, size := range a {
		if _, ok := b[d]; !ok {
			total += size
		}
	}
	return fmt.Sprintf("%.1f MB", float64(total)/1e6)
}

func merged(sets ...map[string]int64) map[string]int64 {
	all := map[string]int64{}
	for _, s := range sets {
		maps.Copy(all, s)
	}
	return all
}

// cacheBlobs are the layer blobs a registry cache's manifest lists, with
// their compressed sizes.
func (b *bench) cacheBlobs(ctx context.Context, ref string) (map[string]int64, error) {
	host, rest, _ := strings.Cut(ref, "/")
	repo, tag, _ := strings.Cut(rest, ":")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, repo, tag), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cache manifest %s: %s", ref, resp.Status)
	}
	var manifest struct {
		Manifests, Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&manifest); err != nil {
		return nil, err
	}
	blobs := map[string]int64{}
	for _, d := range append(manifest.Manifests, manifest.Layers...) {
		if strings.Contains(d.MediaType, "layer") || strings.Contains(d.MediaType, "rootfs") {
			blobs[d.Digest] = d.Size
		}
	}
	return blobs, nil
}
