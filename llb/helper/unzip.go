//go:build ignore

// Command unzip unpacks Go's zoneinfo.zip into a directory: the static
// base's /usr/share/zoneinfo tree (image.zoneinfotree). The frontend runs
// it with the builder's own go.
//
//	unzip ZIP DIR
package main

import (
	"archive/zip"
	"io"
	"log"
	"os"
	"path/filepath"
)

func main() {
	zr, err := zip.OpenReader(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range zr.File {
		if !filepath.IsLocal(f.Name) {
			log.Fatalf("%s: entry %q leaves the tree", os.Args[1], f.Name)
		}
		dst := filepath.Join(os.Args[2], f.Name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				log.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			log.Fatal(err)
		}
		r, err := f.Open()
		if err != nil {
			log.Fatal(err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
