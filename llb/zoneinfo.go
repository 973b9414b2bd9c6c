package llb

import (
	"path"

	bkllb "github.com/moby/buildkit/client/llb"
)

const zoneinfoTreeDir = "/usr/share/zoneinfo"

// unzipZoneinfo is a Go program, run by the builder's own toolchain, that
// unpacks Go's zoneinfo.zip into a directory. Go is the one tool every
// builder image has: golang images differ in whether unzip is there.
const unzipZoneinfo = `package main

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
`

// zoneinfoTree is Go's time zone database unpacked as a tree, for the
// programs that read /usr/share/zoneinfo/<zone> files. The step runs no
// user code and depends only on the builder image, so BuildKit runs it once
// per builder.
func zoneinfoTree(builder bkllb.State) bkllb.State {
	const src, out = "/gobuild-unzip", "/out"
	program := bkllb.Scratch().File(bkllb.Mkfile("/main.go", 0o644, []byte(unzipZoneinfo)), bkllb.WithCustomName(StepZoneinfoProgram))
	run := builder.Run(
		bkllb.Args([]string{"go", "run", path.Join(src, "main.go"), path.Join(builderGoroot, "lib/time/zoneinfo.zip"), out}),
		bkllb.Dir("/"),
		// Outside any module, with nothing of the user's configuration.
		bkllb.AddEnv("GOTOOLCHAIN", "local"),
		bkllb.AddEnv("GOFLAGS", ""),
		bkllb.AddEnv("GOWORK", "off"),
		bkllb.AddEnv("GOCACHE", "/tmp/gocache"),
		bkllb.AddMount("/tmp", bkllb.Scratch(), bkllb.Tmpfs()),
		bkllb.AddMount(src, program, bkllb.Readonly),
		bkllb.WithCustomName(StepZoneinfoTree),
	)
	return run.AddMount(out, bkllb.Scratch())
}
