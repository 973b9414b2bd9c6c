// Package sbom writes an image's software bill of materials as an SPDX 2.3
// document, from what each binary records of its own build (its Go build
// info: the modules linked into it with their go.sum hashes, the
// toolchain, the build settings), so that it lists exactly what was
// linked, without a scanner guessing from the image's files.
package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
)

// Image is what an image's SBOM describes.
type Image struct {
	// Name names the image: the main module's path.
	Name string
	// Version is the build's version, as the binaries' templates see it.
	Version string
	// Platform is the image's platform, such as linux/arm64.
	Platform string
	// Created is the build's date (SOURCE_DATE_EPOCH, else the commit's),
	// never the wall clock, so that the document is reproducible.
	Created time.Time
	// Creator is the tool that wrote the document, such as gobuild-v1.2.0.
	Creator  string
	Binaries []Binary
	// Files are the image's files that no binary's build info covers,
	// such as the static base's CA bundle.
	Files []File
}

// Binary is one binary in the image, as its build info records it.
type Binary struct {
	// Path is where the image holds it.
	Path string
	Info *debug.BuildInfo
}

// File is one file of the image and where it came from.
type File struct {
	Name, Path string
	// Source says where the image's file came from.
	Source string
	// SHA256 is the file's digest, hex.
	SHA256 string
}

// settings are the build settings an SBOM records: what decides the code
// in the binary. Flags that may carry values a build passes in (-ldflags,
// -gcflags, the CGO_*FLAGS) are left out: a build-arg's secret must never
// reach an attestation.
var settings = []string{
	"-buildmode", "-compiler", "-tags", "-trimpath", "-race", "-msan", "-asan",
	"CGO_ENABLED", "GOOS", "GOARCH", "GOEXPERIMENT", "GOFIPS140",
	"GO386", "GOAMD64", "GOARM", "GOARM64", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM",
	"vcs", "vcs.revision", "vcs.time", "vcs.modified",
}

// SPDX writes img's SBOM as SPDX 2.3 JSON, the predicate of BuildKit's
// SBOM attestations. The document says the image contains each binary,
// each binary was generated from its main module and depends on the
// standard library of its Go version and on each module linked into it
// (with its go.sum hash, and its replacement if any).
func SPDX(img Image) ([]byte, error) {
	d := &document{ids: map[string]bool{}}
	imageID := d.add(&spdx.Package{
		PackageName:           img.Name,
		PackageVersion:        img.Version,
		PackageSummary:        "container image for " + img.Platform,
		PrimaryPackagePurpose: "CONTAINER",
	}, "Image")
	d.relate("DOCUMENT", imageID, "DESCRIBES")
	modules := map[string]spdx.ElementID{}
	for _, bin := range img.Binaries {
		if bin.Info == nil {
			return nil, fmt.Errorf("%s: no Go build info", bin.Path)
		}
		binID := d.add(&spdx.Package{
			PackageName:           bin.Path[strings.LastIndex(bin.Path, "/")+1:],
			PackageFileName:       bin.Path,
			PackageVersion:        bin.Info.Main.Version,
			PrimaryPackagePurpose: "APPLICATION",
			PackageComment:        buildComment(bin.Info),
		}, "Binary-"+bin.Path)
		d.relate(imageID, binID, "CONTAINS")
		goVersion, _, _ := strings.Cut(bin.Info.GoVersion, " ") // "go1.26.8 X:exp"
		goID := d.module(modules, "stdlib", strings.TrimPrefix(goVersion, "go"), "", nil, "the Go standard library and runtime, "+bin.Info.GoVersion)
		d.relate(binID, goID, "DEPENDS_ON")
		if bin.Info.Main.Path != "" {
			mainID := d.module(modules, bin.Info.Main.Path, bin.Info.Main.Version, bin.Info.Main.Sum, nil, "the main module")
			d.relate(binID, mainID, "GENERATED_FROM")
		}
		for _, m := range bin.Info.Deps {
			d.relate(binID, d.module(modules, m.Path, m.Version, m.Sum, m.Replace, ""), "DEPENDS_ON")
		}
	}
	for _, f := range img.Files {
		p := &spdx.Package{
			PackageName:           f.Name,
			PackageFileName:       f.Path,
			PackageSourceInfo:     f.Source,
			PrimaryPackagePurpose: "FILE",
		}
		if f.SHA256 != "" {
			p.PackageChecksums = []spdx.Checksum{{Algorithm: spdx.SHA256, Value: f.SHA256}}
		}
		d.relate(imageID, d.add(p, "File-"+f.Path), "CONTAINS")
	}

	doc := &spdx.Document{
		SPDXVersion:    spdx.Version,
		DataLicense:    spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   img.Name + " (" + img.Platform + ")",
		CreationInfo: &spdx.CreationInfo{
			Creators: []spdx.Creator{{CreatorType: "Tool", Creator: img.Creator}},
			Created:  img.Created.UTC().Format(time.RFC3339),
		},
		Packages:      d.packages,
		Relationships: d.relationships,
	}
	// The namespace must be unique to the document and the same for the
	// same build: a digest of everything else in it.
	var content bytes.Buffer
	if err := json.Write(doc, &content); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(content.Bytes())
	doc.DocumentNamespace = "https://github.com/gobuildkit/gobuild/spdx/" + idChars.ReplaceAllString(img.Name, "-") + "-" + hex.EncodeToString(sum[:16])
	var out bytes.Buffer
	if err := json.Write(doc, &out, json.Indent("  ")); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// buildComment is a binary's toolchain and build settings, as go version
// -m prints them, the allowed ones only.
func buildComment(info *debug.BuildInfo) string {
	lines := []string{"built by " + info.GoVersion + " from package " + info.Path}
	for _, s := range info.Settings {
		if slices.Contains(settings, s.Key) {
			lines = append(lines, "build "+s.Key+"="+s.Value)
		}
	}
	return strings.Join(lines, "\n")
}

// document collects packages and relationships, each package once.
type document struct {
	packages      []*spdx.Package
	relationships []*spdx.Relationship
	ids           map[string]bool
}

var idChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// add gives p a unique SPDX identifier derived from name and adds it.
func (d *document) add(p *spdx.Package, name string) spdx.ElementID {
	base := strings.Trim(idChars.ReplaceAllString(name, "-"), "-")
	id := base
	for i := 2; d.ids[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	d.ids[id] = true
	p.PackageSPDXIdentifier = spdx.ElementID(id)
	if p.PackageDownloadLocation == "" {
		p.PackageDownloadLocation = "NOASSERTION"
	}
	d.packages = append(d.packages, p)
	return p.PackageSPDXIdentifier
}

// module adds the Go module path@version once and returns its identifier.
// sum is its go.sum hash (h1:, a SHA-256 of the module's file hashes),
// recorded as SPDX's SHA256 checksum in hex, as in-toto's goModuleH1 and
// other Go SBOM tools do, and verbatim in the comment.
func (d *document) module(seen map[string]spdx.ElementID, path, version, sum string, replace *debug.Module, comment string) spdx.ElementID {
	key := path + "@" + version + " " + sum
	if replace != nil {
		key += " => " + replace.Path + "@" + replace.Version + " " + replace.Sum
	}
	if id, ok := seen[key]; ok {
		return id
	}
	p := &spdx.Package{
		PackageName:           path,
		PackageVersion:        version,
		PrimaryPackagePurpose: "LIBRARY",
	}
	var notes []string
	if comment != "" {
		notes = append(notes, comment)
	}
	effective := sum
	if replace != nil {
		to := replace.Path
		if replace.Version != "" {
			to += "@" + replace.Version
		}
		notes = append(notes, "replaced by "+to)
		effective = replace.Sum
	}
	if effective != "" {
		notes = append(notes, "go.sum "+effective)
		if h, ok := strings.CutPrefix(effective, "h1:"); ok {
			if raw, err := base64.StdEncoding.DecodeString(h); err == nil {
				p.PackageChecksums = []spdx.Checksum{{Algorithm: spdx.SHA256, Value: hex.EncodeToString(raw)}}
			}
		}
	}
	p.PackageComment = strings.Join(notes, "\n")
	purl := "pkg:golang/" + path
	if path == "stdlib" {
		purl = "pkg:golang/stdlib"
	}
	if version != "" && version != "(devel)" {
		purl += "@" + version
	}
	p.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: "PACKAGE-MANAGER", RefType: "purl", Locator: purl}}
	id := d.add(p, "Module-"+path+"-"+version)
	seen[key] = id
	return id
}

// relate adds "a relationship b"; "DOCUMENT" names the document itself.
func (d *document) relate(a, b spdx.ElementID, relationship string) {
	d.relationships = append(d.relationships, &spdx.Relationship{
		RefA:         spdx.DocElementID{ElementRefID: a},
		RefB:         spdx.DocElementID{ElementRefID: b},
		Relationship: relationship,
	})
}
