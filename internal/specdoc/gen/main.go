// Command gen writes docs/gobuild.schema.json and docs/reference.md from the
// spec package; run it with go generate ./spec.
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/gobuildkit/gobuild/internal/specdoc"
)

func main() {
	specDir := flag.String("spec", "spec", "the spec package's directory")
	docsDir := flag.String("docs", "docs", "where to write the schema and the reference")
	flag.Parse()
	schema, err := specdoc.Schema(*specDir)
	if err != nil {
		log.Fatal(err)
	}
	ref, err := specdoc.Reference(*specDir)
	if err != nil {
		log.Fatal(err)
	}
	for name, data := range map[string][]byte{specdoc.SchemaFile: schema, specdoc.ReferenceFile: ref} {
		if err := os.WriteFile(filepath.Join(*docsDir, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
