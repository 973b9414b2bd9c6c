package llb

import (
	_ "embed"
	"path"

	bkllb "github.com/moby/buildkit/client/llb"
)

const zoneinfoTreeDir = "/usr/share/zoneinfo"

// unzipSource unpacks Go's zoneinfo.zip, run by the builder's own go: Go
// is the one tool every golang image has (unzip is not).
//
//go:embed helper/unzip.go
var unzipSource []byte

// zoneinfoTree is Go's time zone database unpacked as a tree, for the
// programs that read /usr/share/zoneinfo/<zone> files. The step runs no
// user code and depends only on the builder image, so BuildKit runs it once
// per builder.
func zoneinfoTree(builder bkllb.State) bkllb.State {
	const out = "/out"
	return builderGo(builder, StepZoneinfoTree, []helperFile{{"unzip.go", unzipSource}}, out, func(programs []string) []string {
		return append(append([]string{"go", "run"}, programs...), path.Join(DefaultGoroot, "lib/time/zoneinfo.zip"), out)
	})
}
