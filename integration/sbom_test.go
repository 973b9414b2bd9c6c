package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
)

// A module that only the worker's tests import: go.sum has it, no binary
// links it.
const (
	testOnlyModule = "github.com/pkg/errors"
	testOnlyGoSum  = "github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=\ngithub.com/pkg/errors v0.9.1/go.mod h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=\n"
)

// TestBuildxSBOM asks for an SBOM the way users do (buildx --sbom=true)
// on the test bed, which has no scanner image: the frontend's own SBOM
// lists, for each platform, each module linked into a binary with go.sum's
// version and hash, and the Go version; not a module go.sum has that no
// binary links.
func TestBuildxSBOM(t *testing.T) {
	dir := specWithSyntax(t, "testdata/twobins")
	appendFile(t, filepath.Join(dir, "go.mod"), "\nrequire "+testOnlyModule+" v0.9.1\n")
	appendFile(t, filepath.Join(dir, "go.sum"), testOnlyGoSum)
	writeFiles(t, dir, map[string]string{"cmd/worker/main_test.go": "package main\n\nimport (\n\t\"testing\"\n\n\t\"github.com/pkg/errors\"\n)\n\nfunc TestWrap(t *testing.T) { _ = errors.New(\"x\") }\n"})

	out, err := buildx(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64,linux/arm64",
		"--sbom=true", "--build-context", goContext(), "--output", "type=oci,dest=image.tar", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "generating sbom using") {
		t.Errorf("BuildKit ran a scanner:\n%s", out)
	}
	goSum := goSumHashes(t, filepath.Join(dir, "go.sum"))
	atts, err := readLayoutFile(t, filepath.Join(dir, "image.tar")).Attestations()
	if err != nil {
		t.Fatal(err)
	}
	goVersion := strings.TrimPrefix(strings.Fields(runtime.Version())[0], "go")
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		var docs []*spdx.Document
		for _, st := range atts[platform] {
			if st.PredicateType == "https://spdx.dev/Document" {
				doc, err := spdxjson.Read(bytes.NewReader(st.Predicate))
				if err != nil {
					t.Fatalf("%s: the SBOM is not SPDX JSON: %v", platform, err)
				}
				docs = append(docs, doc)
			}
		}
		if len(docs) != 1 {
			t.Fatalf("%s: %d SPDX attestations, want 1 (attestations: %d)", platform, len(docs), len(atts[platform]))
		}
		doc := docs[0]
		byID := map[spdx.ElementID]*spdx.Package{}
		byName := map[string]*spdx.Package{}
		for _, p := range doc.Packages {
			byID[p.PackageSPDXIdentifier] = p
			byName[p.PackageName] = p
		}
		uuid := byName["github.com/google/uuid"]
		switch {
		case uuid == nil:
			t.Errorf("%s: the SBOM lacks github.com/google/uuid, which the server links", platform)
		case uuid.PackageVersion != "v1.6.0" || !strings.Contains(uuid.PackageComment, "go.sum "+goSum["github.com/google/uuid v1.6.0"]):
			t.Errorf("%s: uuid %s, %q; go.sum has v1.6.0 %s", platform, uuid.PackageVersion, uuid.PackageComment, goSum["github.com/google/uuid v1.6.0"])
		case len(uuid.PackageChecksums) != 1 || uuid.PackageChecksums[0].Value != h1Hex(t, goSum["github.com/google/uuid v1.6.0"]):
			t.Errorf("%s: uuid checksums %v", platform, uuid.PackageChecksums)
		}
		if byName[testOnlyModule] != nil {
			t.Errorf("%s: the SBOM lists %s, which go.sum has but no binary links", platform, testOnlyModule)
		}
		if std := byName["stdlib"]; std == nil || std.PackageVersion != goVersion {
			t.Errorf("%s: the standard library %v, want Go %s", platform, std, goVersion)
		}
		deps := map[string][]string{}
		for _, r := range doc.Relationships {
			a, b := byID[r.RefA.ElementRefID], byID[r.RefB.ElementRefID]
			if a != nil && b != nil && r.Relationship == "DEPENDS_ON" {
				deps[a.PackageName] = append(deps[a.PackageName], b.PackageName)
			}
		}
		arch := strings.TrimPrefix(platform, "linux/")
		for _, bin := range []string{"server", "worker"} {
			p := byName[bin]
			if p == nil {
				t.Errorf("%s: no package for the binary %s", platform, bin)
				continue
			}
			if !strings.Contains(p.PackageComment, "GOARCH="+arch) || !strings.Contains(p.PackageComment, "built by go"+goVersion) {
				t.Errorf("%s: %s's build settings %q", platform, bin, p.PackageComment)
			}
		}
		if got := strings.Join(deps["server"], " "); !strings.Contains(got, "github.com/google/uuid") {
			t.Errorf("%s: the server depends on %q", platform, got)
		}
		if got := strings.Join(deps["worker"], " "); strings.Contains(got, "uuid") {
			t.Errorf("%s: the worker, which does not link uuid, depends on %q", platform, got)
		}
		if ca := byName["ca-certificates.crt"]; ca == nil || len(ca.PackageChecksums) != 1 || !strings.Contains(ca.PackageSourceInfo, "builder image") {
			t.Errorf("%s: the static base's CA bundle %+v", platform, ca)
		}
	}

	// Pushed, the SBOM reads as buildx reads any image's (the build is
	// cached: only the push is new).
	ref := bed.Registry + "/sbom-test:1"
	out, err = buildx(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64,linux/arm64",
		"--sbom=true", "--build-context", goContext(), "--output", "type=image,name="+ref+",push=true,registry.insecure=true", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	stdout, stderr, err := buildxStdout(t, dir, "imagetools", "inspect", ref, "--format", "{{json .SBOM}}")
	if err != nil {
		t.Fatalf("imagetools inspect: %v\n%s", err, stderr)
	}
	for _, want := range []string{`"linux/arm64"`, `"SPDX-2.3"`, `"github.com/google/uuid"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("imagetools inspect --format '{{json .SBOM}}' lacks %s:\n%.2000s", want, stdout)
		}
	}
}

// goSumHashes maps "path version" to its h1: hash in a go.sum.
func goSumHashes(t *testing.T, file string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			out[f[0]+" "+f[1]] = f[2]
		}
	}
	return out
}

func h1Hex(t *testing.T, h1 string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h1, "h1:"))
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw)
}

func appendFile(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// TestBuildxSBOMGenerator: with a scanner of the client's choosing
// (--attest type=sbom,generator=IMAGE), BuildKit runs that scanner, and its
// SBOM, not gobuild's, is attached.
func TestBuildxSBOMGenerator(t *testing.T) {
	scanner := pushScanner(t, "scanned-by-the-users-scanner")
	dir := specWithSyntax(t, "testdata/twobins")
	out, err := buildx(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64",
		"--attest", "type=sbom,generator="+scanner, "--build-context", goContext(), "--output", "type=oci,dest=image.tar", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	layout := readLayoutFile(t, filepath.Join(dir, "image.tar"))
	atts, err := layout.Attestations()
	if err != nil {
		t.Fatal(err)
	}
	var sboms []string
	for _, st := range atts["linux/amd64"] {
		if st.PredicateType == "https://spdx.dev/Document" {
			sboms = append(sboms, string(st.Predicate))
		}
	}
	if len(sboms) != 1 || !strings.Contains(sboms[0], "scanned-by-the-users-scanner") {
		t.Errorf("SBOMs %q, want the one the user's scanner wrote", sboms)
	}
}

// pushScanner pushes an SBOM scanner image that writes, as BuildKit's
// scanner protocol asks, one in-toto statement whose SPDX document is
// named marker.
func pushScanner(t *testing.T, marker string) string {
	t.Helper()
	statement := `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"` + marker + `","documentNamespace":"https://example.com/` + marker + `","creationInfo":{"creators":["Tool: test"],"created":"1970-01-01T00:00:00Z"}}}`
	config, err := json.Marshal(map[string]any{
		"os": "linux", "architecture": runtime.GOARCH,
		"config": map[string]any{"Entrypoint": []string{"/bin/sh", "-c", "printf '%s' '" + statement + "' > \"$BUILDKIT_SCAN_DESTINATION/sbom.spdx.json\""}},
		"rootfs": map[string]any{"type": "layers"},
	})
	if err != nil {
		t.Fatal(err)
	}
	def, err := llb.Image(bed.GoImage).Marshal(context.Background(), llb.LinuxAmd64)
	if err != nil {
		t.Fatal(err)
	}
	c, err := bed.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ref := bed.Registry + "/sbom-scanner:test"
	_, err = c.Solve(context.Background(), def, client.SolveOpt{Exports: []client.ExportEntry{{
		Type:  client.ExporterImage,
		Attrs: map[string]string{"name": ref, "push": "true", "registry.insecure": "true", "containerimage.config": string(config)},
	}}}, nil)
	if err != nil {
		t.Fatalf("pushing the scanner image: %v", err)
	}
	return ref
}

// TestBuildxProvenanceAndSecrets builds a module with a private dependency
// the way users do, with both attestations (--sbom=true,
// --provenance=mode=max) and the proxy's credentials as the netrc secret:
// the provenance names the spec file and the build-args, and no blob of
// the result (images, SBOMs, provenance) holds the credentials. A token
// written into the proxy URL instead fails the build without showing it.
func TestBuildxProvenanceAndSecrets(t *testing.T) {
	proxy := startPrivateProxy(t, "testdata/privatemod", "example.com/private/greet", "v1.0.0")
	dir := specWithSyntax(t, "../examples/private")
	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, proxy.netrc(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := buildx(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64",
		"--sbom=true", "--provenance=mode=max", "--secret", "id=netrc,src="+netrc,
		"--build-arg", "PRIVATE_GOPROXY="+proxy.url, "--build-arg", "VERSION=v7.7.7",
		"--build-context", goContext(), "--output", "type=oci,dest=image.tar", ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	layout := readLayoutFile(t, filepath.Join(dir, "image.tar"))
	for d, blob := range layout.Blobs {
		if bytes.Contains(blob, []byte(proxy.password)) {
			t.Errorf("blob %s holds the proxy's password", d)
		}
	}
	if strings.Contains(out, proxy.password) {
		t.Error("the build's output holds the proxy's password")
	}
	atts, err := layout.Attestations()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var provenance *slsaProvenance
	for _, st := range atts["linux/amd64"] {
		kinds = append(kinds, st.PredicateType)
		if strings.HasPrefix(st.PredicateType, "https://slsa.dev/provenance/") {
			provenance = &slsaProvenance{}
			if err := json.Unmarshal(st.Predicate, provenance); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Contains(kinds, "https://spdx.dev/Document") || provenance == nil {
		t.Fatalf("attestations %q, want an SBOM and a provenance", kinds)
	}
	ext := provenance.BuildDefinition.ExternalParameters
	if ext.ConfigSource.Path != "gobuild.yaml" {
		t.Errorf("provenance config source %+v, want the spec file", ext.ConfigSource)
	}
	if got := ext.Request.Args["build-arg:VERSION"]; got != "v7.7.7" {
		t.Errorf("provenance build-arg VERSION = %q; args %v", got, ext.Request.Args)
	}
	var frontendImage bool
	for _, dep := range provenance.BuildDefinition.ResolvedDependencies {
		frontendImage = frontendImage || strings.Contains(dep.URI, "gobuild")
	}
	if !frontendImage {
		t.Errorf("provenance dependencies %+v lack the frontend image", provenance.BuildDefinition.ResolvedDependencies)
	}
	if len(ext.Request.Secrets) != 1 || ext.Request.Secrets[0].ID != "netrc" {
		t.Errorf("provenance secrets %+v, want the netrc secret named", ext.Request.Secrets)
	}

	// The vuln target, with the same secret: its report holds no
	// credential either.
	vulnOut := t.TempDir()
	out, err = buildx(t, dir, "build", "-f", "gobuild.yaml", "--target", "vuln", "--secret", "id=netrc,src="+netrc,
		"--build-arg", "PRIVATE_GOPROXY="+proxy.url, "--build-arg", "GOVULNDB="+vulnDB(t),
		"--build-context", goContext(), "--output", "type=local,dest="+vulnOut, ".")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	report, err := os.ReadFile(filepath.Join(vulnOut, gbllb.VulnReport))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(report, []byte("No vulnerabilities found")) {
		t.Errorf("the vuln report:\n%s", report)
	}
	if bytes.Contains(report, []byte(proxy.password)) || strings.Contains(out, proxy.password) {
		t.Error("the vuln target's report or output holds the proxy's password")
	}

	withToken := strings.Replace(proxy.url, "https://", "https://"+proxy.user+":"+proxy.password+"@", 1)
	out, err = buildx(t, dir, "build", "-f", "gobuild.yaml", "--platform", "linux/amd64",
		"--build-arg", "PRIVATE_GOPROXY="+withToken, "--build-context", goContext(), "--output", "type=oci,dest=image2.tar", ".")
	if err == nil {
		t.Fatal("a proxy URL with credentials was accepted")
	}
	if !strings.Contains(out, "carries credentials in a URL") || strings.Contains(out, proxy.password) {
		t.Errorf("want the URL refused, its credentials masked:\n%s", out)
	}
}

// slsaProvenance is what the test reads of a SLSA v1 provenance predicate.
type slsaProvenance struct {
	BuildDefinition struct {
		ExternalParameters struct {
			ConfigSource struct {
				Path string `json:"path"`
			} `json:"configSource"`
			Request struct {
				Frontend string            `json:"frontend"`
				Args     map[string]string `json:"args"`
				Secrets  []struct {
					ID string `json:"id"`
				} `json:"secrets"`
			} `json:"request"`
		} `json:"externalParameters"`
		ResolvedDependencies []struct {
			URI string `json:"uri"`
		} `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
}
