package sbom

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
)

// buildInfo parses build info as go version -m prints it.
func buildInfo(t *testing.T, lines ...string) *debug.BuildInfo {
	t.Helper()
	info, err := debug.ParseBuildInfo(strings.Join(lines, "\n") + "\n")
	if err != nil {
		t.Fatal(err)
	}
	info.GoVersion = "go1.26.8" // not in go version -m's lines
	return info
}

const uuidSum = "h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0="

func server(t *testing.T) *debug.BuildInfo {
	return buildInfo(t,
		"path\texample.com/twobins/cmd/server",
		"mod\texample.com/twobins\t(devel)\t",
		"dep\tgithub.com/google/uuid\tv1.6.0\t"+uuidSum,
		"dep\texample.com/lib\tv0.0.0-00010101000000-000000000000\t",
		"=>\t../lib\t\t",
		"build\t-buildmode=exe",
		"build\t-compiler=gc",
		"build\t-ldflags=\"-s -w -X main.token=s3cr3t-token\"",
		"build\t-tags=netgo",
		"build\tCGO_ENABLED=0",
		"build\tCGO_CFLAGS=-DTOKEN=s3cr3t-token",
		"build\tGOARCH=arm64",
		"build\tGOOS=linux",
		"build\tvcs.revision=0123456789abcdef",
	)
}

func worker(t *testing.T) *debug.BuildInfo {
	return buildInfo(t,
		"path\texample.com/twobins/cmd/worker",
		"mod\texample.com/twobins\t(devel)\t",
		"build\tGOARCH=arm64",
		"build\tGOOS=linux",
	)
}

func parse(t *testing.T, data []byte) *spdx.Document {
	t.Helper()
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the document does not read back as SPDX: %v\n%s", err, data)
	}
	return doc
}

func TestSPDX(t *testing.T) {
	img := Image{
		Name:     "example.com/twobins",
		Version:  "v1.2.3",
		Platform: "linux/arm64",
		Created:  time.Unix(1700000000, 0),
		Creator:  "gobuild-test",
		Binaries: []Binary{{"/usr/local/bin/server", server(t)}, {"/usr/local/bin/worker", worker(t)}},
		Files:    []File{{Name: "ca-certificates.crt", Path: "/etc/ssl/certs/ca-certificates.crt", Source: "the builder image golang:1.26", SHA256: "ab"}},
	}
	data, err := SPDX(img)
	if err != nil {
		t.Fatal(err)
	}
	doc := parse(t, data)
	if doc.SPDXVersion != "SPDX-2.3" || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("version %q, created %q", doc.SPDXVersion, doc.CreationInfo.Created)
	}
	byID := map[spdx.ElementID]*spdx.Package{}
	for _, p := range doc.Packages {
		byID[p.PackageSPDXIdentifier] = p
	}
	related := map[string][]string{} // "binary DEPENDS_ON" -> names
	for _, r := range doc.Relationships {
		a := "DOCUMENT"
		if p := byID[r.RefA.ElementRefID]; p != nil {
			a = p.PackageName
		}
		b := byID[r.RefB.ElementRefID]
		if b == nil {
			t.Fatalf("relationship to a missing package: %v", r.RefB)
		}
		name := b.PackageName
		if b.PackageVersion != "" {
			name += "@" + b.PackageVersion
		}
		related[a+" "+r.Relationship] = append(related[a+" "+r.Relationship], name)
	}
	for rel, want := range map[string][]string{
		"DOCUMENT DESCRIBES":           {"example.com/twobins@v1.2.3"},
		"example.com/twobins CONTAINS": {"server@(devel)", "worker@(devel)", "ca-certificates.crt"},
		"server DEPENDS_ON":            {"stdlib@1.26.8", "github.com/google/uuid@v1.6.0", "example.com/lib@v0.0.0-00010101000000-000000000000"},
		"server GENERATED_FROM":        {"example.com/twobins@(devel)"},
		"worker DEPENDS_ON":            {"stdlib@1.26.8"},
	} {
		if got := related[rel]; !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", rel, got, want)
		}
	}
	for _, p := range doc.Packages {
		switch p.PackageName {
		case "github.com/google/uuid":
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(uuidSum, "h1:"))
			if len(p.PackageChecksums) != 1 || p.PackageChecksums[0].Algorithm != spdx.SHA256 || p.PackageChecksums[0].Value != fmt.Sprintf("%x", raw) {
				t.Errorf("uuid checksums %v, want go.sum's h1 in hex", p.PackageChecksums)
			}
			if !strings.Contains(p.PackageComment, "go.sum "+uuidSum) {
				t.Errorf("uuid comment %q lacks go.sum's hash", p.PackageComment)
			}
			if len(p.PackageExternalReferences) != 1 || p.PackageExternalReferences[0].Locator != "pkg:golang/github.com/google/uuid@v1.6.0" {
				t.Errorf("uuid purl %v", p.PackageExternalReferences)
			}
		case "example.com/lib":
			if !strings.Contains(p.PackageComment, "replaced by ../lib") || len(p.PackageChecksums) != 0 {
				t.Errorf("a module replaced by a directory: comment %q, checksums %v", p.PackageComment, p.PackageChecksums)
			}
		case "server":
			for _, want := range []string{"built by go1.26.8", "-tags=netgo", "CGO_ENABLED=0", "GOARCH=arm64", "vcs.revision=0123456789abcdef"} {
				if !strings.Contains(p.PackageComment, want) {
					t.Errorf("server's settings %q lack %q", p.PackageComment, want)
				}
			}
		}
	}
	if bytes.Contains(data, []byte("s3cr3t")) {
		t.Errorf("a flag's value reached the SBOM:\n%s", data)
	}

	again, err := SPDX(img)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("the same image gave another document (%v)", err)
	}
	img.Binaries = img.Binaries[:1]
	other, err := SPDX(img)
	if err != nil {
		t.Fatal(err)
	}
	if parse(t, other).DocumentNamespace == doc.DocumentNamespace {
		t.Error("two documents share a namespace")
	}
}

// This test binary's own build info makes a document whose standard
// library is the running toolchain's.
func TestSPDXOfThisBinary(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build info")
	}
	data, err := SPDX(Image{Name: "test", Platform: "linux/amd64", Creator: "gobuild-test", Binaries: []Binary{{"/test", info}}})
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, p := range parse(t, data).Packages {
		versions = append(versions, p.PackageName+"@"+p.PackageVersion)
	}
	want := "stdlib@" + strings.TrimPrefix(strings.Fields(runtime.Version())[0], "go")
	if !slices.Contains(versions, want) {
		t.Errorf("packages %q lack %s", versions, want)
	}
}
