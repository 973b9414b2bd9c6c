package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// layerRows names the dependency layer table, for -scenario.
const layerRows = "dependency layers"

// layerSizes reports, per platform, the compressed size of the dependency
// layers a registry cache carries (what a cache export of A holds beyond
// A0's), and the time they add to a long-lived builder's cache export:
// the first export to an empty cache ref uploads them, one after an edit
// finds them in the registry.
func (b *bench) layerSizes(ctx context.Context, w io.Writer, m module, dir string) error {
	b.logf("-- %s, %s", layerRows, m.name)
	fmt.Fprintf(w, "Dependency layers (%s): `--cache-to type=registry,mode=max` (and `--cache-from`, as CI passes both) from a builder that has built the commit, A against A0.\n\n", m.name)
	fmt.Fprintf(w, "| platform | cache export A | cache export A0 | layers (A − A0, compressed) | first export A / A0 | export after one edit A / A0 |\n| --- | --- | --- | --- | --- | --- |\n")
	edits := 2000
	for _, platform := range allPlatforms[:2] {
		var size [2]int64
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
			if size[i], err = b.cacheBytes(ctx, ref); err != nil {
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
		fmt.Fprintf(w, "| %s | %.1f MB | %.1f MB | %.1f MB | %.2fs / %.2fs | %.2fs / %.2fs |\n", platform,
			float64(size[0])/1e6, float64(size[1])/1e6, float64(size[0]-size[1])/1e6,
			first[0].Seconds(), first[1].Seconds(), again[0].Seconds(), again[1].Seconds())
	}
	fmt.Fprintln(w)
	return nil
}

// cacheBytes is the compressed size of every blob a registry cache's
// manifest lists.
func (b *bench) cacheBytes(ctx context.Context, ref string) (int64, error) {
	host, rest, _ := strings.Cut(ref, "/")
	repo, tag, _ := strings.Cut(rest, ":")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, repo, tag), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("cache manifest %s: %s", ref, resp.Status)
	}
	var manifest struct {
		Manifests, Layers []struct {
			MediaType string `json:"mediaType"`
			Size      int64  `json:"size"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&manifest); err != nil {
		return 0, err
	}
	var total int64
	for _, d := range append(manifest.Manifests, manifest.Layers...) {
		if strings.Contains(d.MediaType, "layer") || strings.Contains(d.MediaType, "rootfs") {
			total += d.Size
		}
	}
	return total, nil
}
