package frontend

import (
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gobuildkit/gobuild/internal/sbom"
	gbllb "github.com/gobuildkit/gobuild/llb"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/attestations"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// sbomFile is where an SBOM attestation's state holds the document.
const sbomFile = "/sbom.spdx.json"

// ownSBOM reports whether the client asks for an SBOM (buildx --sbom=true,
// --attest type=sbom) that gobuild writes: one that names no generator.
// With a generator=IMAGE of the client's choosing, the result carries no
// SBOM, and BuildKit runs that scanner as it does for any frontend.
func ownSBOM(opts map[string]string) (bool, error) {
	attests, err := attestations.Parse(opts)
	if err != nil {
		return false, err
	}
	attrs, ok := attests[attestations.KeyTypeSbom]
	if !ok || attrs["disabled"] == "true" {
		return false, nil
	}
	for k, v := range opts {
		if (k == "attest:sbom" || k == "build-arg:BUILDKIT_ATTEST_SBOM") && strings.Contains(v, "generator=") {
			return false, nil
		}
	}
	return true, nil
}

// sbomTarget is what one platform's SBOM describes.
type sbomTarget struct {
	platform string
	ref      client.Reference
	result   *gbllb.Result
	// date is the build's date, the document's creation time.
	date time.Time
}

// attachSBOMs adds to each platform's image an SBOM attestation: an
// in-toto statement with an SPDX 2.3 predicate, the form BuildKit's
// scanner writes, made from the build info of the binaries in the image.
// BuildKit then runs no scanner.
func (b *builder) attachSBOMs(ctx context.Context, rb *dockerui.ResultBuilder, targets *sync.Map) error {
	builderRef := imageIdentifier(ctx, b.builderImage)
	return rb.EachPlatform(ctx, func(ctx context.Context, id string, _ ocispecs.Platform) error {
		v, ok := targets.Load(id)
		if !ok {
			return fmt.Errorf("no build for platform %s", id)
		}
		t := v.(sbomTarget)
		img := sbom.Image{
			Name:     b.modulePath(),
			Version:  b.version,
			Platform: t.platform,
			Created:  t.date,
			Creator:  "gobuild" + frontendVersion(),
		}
		var mu sync.Mutex
		eg, readCtx := errgroup.WithContext(ctx)
		img.Binaries = make([]sbom.Binary, len(t.result.Binaries))
		for i, file := range t.result.Binaries {
			eg.Go(func() error {
				info, err := buildinfo.Read(&refReaderAt{ctx: readCtx, ref: t.ref, name: file})
				if err != nil {
					return fmt.Errorf("reading the build info of %s (%s): %w", file, t.platform, err)
				}
				img.Binaries[i] = sbom.Binary{Path: file, Info: info}
				return nil
			})
		}
		for _, f := range t.result.BaseFiles {
			eg.Go(func() error {
				data, err := t.ref.ReadFile(readCtx, client.ReadRequest{Filename: f.Path})
				if err != nil {
					return fmt.Errorf("reading %s (%s): %w", f.Path, t.platform, err)
				}
				sum := sha256.Sum256(data)
				mu.Lock()
				defer mu.Unlock()
				img.Files = append(img.Files, sbom.File{
					Name:   f.Name,
					Path:   f.Path,
					Source: f.FromBuilder + " of the builder image " + builderRef,
					SHA256: hex.EncodeToString(sum[:]),
				})
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			return err
		}
		sortFiles(img.Files)
		doc, err := sbom.SPDX(img)
		if err != nil {
			return err
		}
		st := llb.Scratch().File(llb.Mkfile(sbomFile, 0o644, doc), llb.WithCustomName("[internal] SBOM ("+t.platform+")"))
		ref, err := b.solve(ctx, st, b.buildPlatform, false)
		if err != nil {
			return err
		}
		rb.AddAttestation(id, result.Attestation[client.Reference]{
			Kind:     gatewaypb.AttestationKind_InToto,
			Ref:      ref,
			Path:     sbomFile,
			Metadata: map[string][]byte{result.AttestationReasonKey: []byte(result.AttestationReasonSBOM)},
			InToto:   result.InTotoAttestation{PredicateType: intoto.PredicateSPDX},
		})
		return nil
	})
}

// frontendVersion is "-" and this frontend's module version when it was
// built from a tagged module, else empty.
func frontendVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return "-" + info.Main.Version
	}
	return ""
}

// refReaderAt reads a file of a solved reference by ranges, so that
// reading a binary's build info moves its headers and the few blocks
// that hold it, not the binary. Blocks are kept: debug/buildinfo reads
// small pieces near each other.
type refReaderAt struct {
	ctx    context.Context
	ref    client.Reference
	name   string
	mu     sync.Mutex
	blocks map[int64][]byte
}

const readBlock = 64 << 10

func (r *refReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		at := off + int64(n)
		block, err := r.block(at / readBlock)
		if err != nil {
			return n, err
		}
		start := at % readBlock
		if start >= int64(len(block)) {
			return n, io.EOF
		}
		n += copy(p[n:], block[start:])
		if len(block) < readBlock && n < len(p) {
			return n, io.EOF
		}
	}
	return n, nil
}

func (r *refReaderAt) block(i int64) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if data, ok := r.blocks[i]; ok {
		return data, nil
	}
	data, err := r.ref.ReadFile(r.ctx, client.ReadRequest{Filename: r.name, Range: &client.FileRange{Offset: int(i * readBlock), Length: readBlock}})
	if err != nil {
		return nil, err
	}
	if r.blocks == nil {
		r.blocks = map[int64][]byte{}
	}
	r.blocks[i] = data
	return data, nil
}

// imageIdentifier is the reference (with its digest, once resolved) of
// the image st starts from, for an SBOM to say where files came from.
func imageIdentifier(ctx context.Context, st llb.State) string {
	def, err := st.Marshal(ctx)
	if err != nil {
		return "unknown"
	}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			continue
		}
		if src := op.GetSource(); src != nil {
			if ref, ok := strings.CutPrefix(src.Identifier, "docker-image://"); ok {
				return ref
			}
		}
	}
	return "unknown"
}

func sortFiles(files []sbom.File) {
	slices.SortFunc(files, func(a, b sbom.File) int { return strings.Compare(a.Path, b.Path) })
}
