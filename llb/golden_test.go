package llb

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"github.com/gobuildkit/gobuild/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGolden")

// goldenCases are the conversions TestGolden pins. Each reads
// testdata/golden/<name>/gobuild.yaml and is compared with
// testdata/golden/<name>.txt.
var goldenCases = []struct {
	name   string
	target string
	opt    func(*Options)
	// states returns the definitions to dump, by section name, and any
	// further text (the image config) to append.
	states func(*spec.Spec, Options) ([]goldenState, string, error)
}{
	{
		// Grouped and separate go builds, templated flags and env, every
		// image setting, the static base and narrowed sources.
		name:   "image",
		target: "linux/arm64",
		opt: func(o *Options) {
			o.Sources = &SourceSet{Embeds: []string{"cmd/server/static"}}
		},
		states: convertImage,
	},
	{
		// The other branches: a base image and its config, modules in a
		// layer, cgo, buildvcs, a cache namespace and the whole context.
		name:   "image-base",
		target: "linux/amd64",
		opt: func(o *Options) {
			base := bkllb.Image("gcr.io/distroless/base-debian12", bkllb.Platform(o.TargetPlatform))
			o.Base = &base
			o.BaseImage = &dockerspec.DockerOCIImage{
				Image: ocispecs.Image{History: []ocispecs.History{{CreatedBy: "base layer"}}},
				Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{
					Env:          []string{"PATH=/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
					Entrypoint:   []string{"/base"},
					Labels:       map[string]string{"base.label": "kept", "org.opencontainers.image.version": "base"},
					ExposedPorts: map[string]struct{}{"22/tcp": {}},
				}},
			}
			o.ModuleCache = ModuleCacheLayer
			o.CacheNamespace = "ns-"
			o.SourceMap = nil
			o.Epoch = nil
		},
		states: convertImage,
	},
	{
		// The compiled dependencies in layers: the standard library's and
		// the modules', per go build.
		name:   "dependency-layers",
		target: "linux/arm64",
		opt: func(o *Options) {
			o.ModulePath = "example.com/x"
			o.DependencyCache = DependencyCacheLayer
			o.Imports = ReadImports(map[string][]GoFile{
				"cmd/server":     {{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"net/http\"\n\t\"example.com/x/internal/store\"\n\t\"github.com/google/uuid\"\n)\n")}},
				"cmd/worker":     {{Name: "main.go", Data: []byte("package main\n\nimport \"os\"\n")}},
				"cmd/tool":       {{Name: "main.go", Data: []byte("package main\n\nimport \"flag\"\n")}},
				"internal/store": {{Name: "store.go", Data: []byte("package store\n\nimport \"database/sql\"\n")}},
			})
		},
		states: convertImage,
	},
	{
		// A builder fed by --cache-from: go build on the toolchain layer,
		// with the standard library's sources its binaries reach on every
		// target platform.
		name:   "fresh-builder",
		target: "linux/arm64",
		opt: func(o *Options) {
			o.ModulePath = "example.com/x"
			o.CacheImported, o.Goroot = true, DefaultGoroot
			o.TargetPlatforms = []ocispecs.Platform{platforms.MustParse("linux/amd64"), platforms.MustParse("linux/arm64")}
			o.Imports = ReadImports(map[string][]GoFile{
				"cmd/server": {{Name: "main.go", Data: []byte("package main\n\nimport (\n\t\"net/http\"\n\t\"github.com/google/uuid\"\n)\n")}},
				"cmd/worker": {{Name: "main.go", Data: []byte("package main\n\nimport \"os\"\n")}},
			})
		},
		states: convertImage,
	},
	{
		name:   "test",
		target: "linux/amd64",
		states: func(s *spec.Spec, opt Options) ([]goldenState, string, error) {
			test, err := Test(s, opt)
			if err != nil {
				return nil, "", err
			}
			vet, err := Vet(s, opt)
			if err != nil {
				return nil, "", err
			}
			return []goldenState{{"go test", test}, {"go vet", vet}}, "", nil
		},
	},
}

type goldenState struct {
	name  string
	state bkllb.State
}

func convertImage(s *spec.Spec, opt Options) ([]goldenState, string, error) {
	res, err := Convert(context.Background(), s, opt)
	if err != nil {
		return nil, "", err
	}
	img, err := json.MarshalIndent(res.Image, "", "  ")
	if err != nil {
		return nil, "", err
	}
	ann, err := json.MarshalIndent(res.Annotations, "", "  ")
	if err != nil {
		return nil, "", err
	}
	return []goldenState{{"image", res.State}}, "== image config\n" + string(img) + "\n\n== annotations\n" + string(ann) + "\n", nil
}

// goldenOptions are fixed options, as the frontend would fill them: a
// pinned build platform, version, commit, args, dates and source map.
func goldenOptions(target string, specData []byte) Options {
	build := platforms.MustParse("linux/amd64")
	epoch := time.Unix(1700000000, 0)
	commitTime := time.Unix(1690000000, 0)
	return Options{
		BuildPlatform:  build,
		TargetPlatform: platforms.MustParse(target),
		Context: bkllb.Local("context", bkllb.SessionID("golden"), bkllb.SharedKeyHint("context"),
			bkllb.ExcludePatterns([]string{"*.md"})),
		Builder:    bkllb.Image("golang:1.26", bkllb.Platform(build)),
		Version:    "v1.2.3",
		Commit:     "0123456789abcdef0123456789abcdef01234567",
		Args:       map[string]string{"PROXY": "https://proxy.example"},
		Source:     "https://github.com/example/x",
		Epoch:      &epoch,
		CommitTime: &commitTime,
		SourceMap:  bkllb.NewSourceMap(nil, "gobuild.yaml", "", specData),
	}
}

// TestGolden pins the whole definition of a few representative specs, as
// a readable dump, so that a refactoring that changes any op shows up as a
// diff. Run with -update to rewrite the golden files after a deliberate
// change.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", tc.name)
			data, err := os.ReadFile(filepath.Join(dir, "gobuild.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := spec.Parse("gobuild.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.FillDefaults([]byte("module example.com/x\n\ngo 1.26\n")); err != nil {
				t.Fatal(err)
			}
			opt := goldenOptions(tc.target, data)
			if tc.opt != nil {
				tc.opt(&opt)
			}
			states, extra, err := tc.states(s, opt)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			for _, st := range states {
				def, err := st.state.Marshal(context.Background(), bkllb.Platform(opt.TargetPlatform))
				if err != nil {
					t.Fatal(err)
				}
				text, err := dumpDefinition(def)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&out, "== %s\n%s\n", st.name, text)
			}
			out.WriteString(extra)

			golden := dir + ".txt"
			if *update {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./llb -run Golden -update to create it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("definition differs from %s (go test ./llb -run Golden -update rewrites it):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists the lines that differ, each under the op (or section)
// it belongs to, from a longest common subsequence of the lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	// lcs[i][j] is the LCS length of w[i:] and g[j:].
	lcs := make([][]int, len(w)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(g)+1)
	}
	for i := len(w) - 1; i >= 0; i-- {
		for j := len(g) - 1; j >= 0; j-- {
			if w[i] == g[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	header, shown := "", ""
	emit := func(sign, line string) {
		if header != shown {
			b.WriteString("@@ " + header + "\n")
			shown = header
		}
		b.WriteString(sign + " " + line + "\n")
	}
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			if strings.HasPrefix(w[i], "op ") || strings.HasPrefix(w[i], "== ") {
				header = w[i]
			}
			i, j = i+1, j+1
		case j < len(g) && (i == len(w) || lcs[i][j+1] >= lcs[i+1][j]):
			emit("+", g[j])
			j++
		default:
			emit("-", w[i])
			i++
		}
	}
	return b.String()
}

// dumpDefinition writes every op of def, sorted by the name it is known
// by (its custom name, else its source, else its kind), with inputs named
// the same way: digests change with any byte of an op and say nothing.
func dumpDefinition(def *bkllb.Definition) (string, error) {
	type entry struct {
		op    *pb.Op
		dgst  digest.Digest
		label string
	}
	var entries []*entry
	labels := map[digest.Digest]string{}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return "", err
		}
		d := digest.FromBytes(dt)
		e := &entry{op: &op, dgst: d, label: opLabel(&op, def.Metadata[d])}
		entries = append(entries, e)
		labels[d] = e.label
	}
	// Ops sharing a label are told apart by their content.
	byLabel := map[string][]*entry{}
	for _, e := range entries {
		byLabel[e.label] = append(byLabel[e.label], e)
	}
	for label, same := range byLabel {
		if len(same) < 2 {
			continue
		}
		bodies := map[*entry]string{}
		for _, e := range same {
			bodies[e] = dumpOp(e.op, def.Metadata[e.dgst], labels)
		}
		slices.SortFunc(same, func(a, b *entry) int { return strings.Compare(bodies[a], bodies[b]) })
		for i, e := range same {
			labels[e.dgst] = fmt.Sprintf("%s #%d", label, i+1)
		}
	}
	for _, e := range entries {
		e.label = labels[e.dgst]
	}
	slices.SortFunc(entries, func(a, b *entry) int { return strings.Compare(a.label, b.label) })

	var b strings.Builder
	if def.Source != nil {
		for _, info := range def.Source.Infos {
			fmt.Fprintf(&b, "source map file %q, language %q, %d bytes\n", info.Filename, info.Language, len(info.Data))
		}
	}
	for _, e := range entries {
		fmt.Fprintf(&b, "op %q\n", e.label)
		b.WriteString(dumpOp(e.op, def.Metadata[e.dgst], labels))
		b.WriteString(dumpLocations(def.Source, e.dgst))
	}
	return b.String(), nil
}

func opLabel(op *pb.Op, meta bkllb.OpMetadata) string {
	if name := meta.Description["llb.customname"]; name != "" {
		return name
	}
	if src := op.GetSource(); src != nil {
		return src.Identifier
	}
	if op.Op == nil {
		return "(result)"
	}
	return opKind(op)
}

func opKind(op *pb.Op) string {
	if op.Op == nil {
		return "result"
	}
	t := reflect.TypeOf(op.Op).Elem() // *pb.Op_Exec and the like
	return protoName(t.Field(0))
}

func dumpOp(op *pb.Op, meta bkllb.OpMetadata, labels map[digest.Digest]string) string {
	d := &dumper{op: op, labels: labels}
	d.line(1, "kind: %s", opKind(op))
	d.fields(1, reflect.ValueOf(op).Elem())
	d.field(1, "metadata", reflect.ValueOf(meta))
	return d.b.String()
}

func dumpLocations(src *pb.Source, dgst digest.Digest) string {
	if src == nil || src.Locations[string(dgst)] == nil {
		return ""
	}
	var b strings.Builder
	for _, loc := range src.Locations[string(dgst)].Locations {
		file := "?"
		if int(loc.SourceIndex) < len(src.Infos) {
			file = src.Infos[loc.SourceIndex].Filename
		}
		for _, r := range loc.Ranges {
			at := fmt.Sprintf("%s:%d", file, r.Start.GetLine())
			if r.Start.GetCharacter() != 0 || r.End.GetLine() != r.Start.GetLine() || r.End.GetCharacter() != 0 {
				at = fmt.Sprintf("%s:%d:%d-%d:%d", file, r.Start.GetLine(), r.Start.GetCharacter(), r.End.GetLine(), r.End.GetCharacter())
			}
			fmt.Fprintf(&b, "  location: %s\n", at)
		}
	}
	return b.String()
}

// dumper writes a decoded op generically, field by field, so that no field
// escapes the golden file; the few fields that hold references or sets are
// written by hand.
type dumper struct {
	b      bytes.Buffer
	op     *pb.Op
	labels map[digest.Digest]string
}

func (d *dumper) line(depth int, format string, args ...any) {
	d.b.WriteString(strings.Repeat("  ", depth))
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteByte('\n')
}

// fields writes the exported, non-zero fields of a struct.
func (d *dumper) fields(depth int, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		name := protoName(f)
		switch {
		case t == reflect.TypeFor[pb.Op]() && f.Name == "Inputs":
			if len(d.op.Inputs) > 0 {
				d.line(depth, "inputs:")
			}
			for i, in := range d.op.Inputs {
				d.line(depth+1, "- %d %q output %d", i, d.labels[digest.Digest(in.Digest)], in.Index)
			}
		case f.Name == "Input" || f.Name == "SecondaryInput":
			d.line(depth, "%s: %s", name, d.inputRef(fv.Int()))
		case f.Name == "Output" && fv.Kind() == reflect.Int64:
			d.line(depth, "%s: %d", name, fv.Int())
		case t == reflect.TypeFor[pb.Meta]() && f.Name == "Env":
			d.field(depth, name, reflect.ValueOf(slices.Sorted(slices.Values(fv.Interface().([]string)))))
		case f.Name == "Mode" && fv.CanInt() && fv.Int() > 0:
			d.line(depth, "%s: %#o", name, fv.Int())
		case f.Name == "Mode" && fv.CanUint() && fv.Uint() > 0:
			d.line(depth, "%s: %#o", name, fv.Uint())
		case f.Name == "Timestamp" && fv.Kind() == reflect.Int64:
			if fv.Int() >= 0 {
				d.line(depth, "%s: %s", name, time.Unix(0, fv.Int()).UTC().Format(time.RFC3339Nano))
			}
		default:
			d.field(depth, name, fv)
		}
	}
}

// inputRef names what an index in a mount or file action refers to.
func (d *dumper) inputRef(i int64) string {
	switch n := int64(len(d.op.Inputs)); {
	case i < 0:
		return "none"
	case i < n:
		return fmt.Sprintf("%d %q", i, d.labels[digest.Digest(d.op.Inputs[i].Digest)])
	default:
		return fmt.Sprintf("%d (action %d)", i, i-n)
	}
}

func (d *dumper) field(depth int, name string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if p, ok := v.Interface().(*pb.Platform); ok {
			d.line(depth, "%s: %s", name, platforms.Format(ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}))
			if p.OSVersion != "" || len(p.OSFeatures) > 0 {
				d.line(depth+1, "osVersion %q, osFeatures %q", p.OSVersion, p.OSFeatures)
			}
			return
		}
		d.field(depth, name, v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		// A oneof: the wrapper's only field is the value set, zero or not.
		w := v.Elem().Elem()
		if s, ok := scalar(w.Field(0)); ok {
			d.line(depth, "%s: %s", protoName(w.Type().Field(0)), s)
			return
		}
		d.field(depth, protoName(w.Type().Field(0)), w.Field(0))
	case reflect.Struct:
		d.line(depth, "%s:", name)
		n := d.b.Len()
		d.fields(depth+1, v)
		if d.b.Len() == n { // every field unset
			d.b.Truncate(n - 1)
			d.b.WriteString(" {}\n")
		}
	case reflect.Slice:
		if v.Len() == 0 {
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			d.line(depth, "%s: %q", name, v.Bytes())
			return
		}
		d.line(depth, "%s:", name)
		for i := range v.Len() {
			e := v.Index(i)
			if s, ok := scalar(e); ok {
				d.line(depth+1, "- %s", s)
				continue
			}
			d.line(depth+1, "- [%d]", i)
			if e.Kind() == reflect.Pointer {
				e = e.Elem()
			}
			d.fields(depth+2, e)
		}
	case reflect.Map:
		if v.Len() == 0 {
			return
		}
		d.line(depth, "%s:", name)
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			if s, ok := scalar(v.MapIndex(k)); ok {
				d.line(depth+1, "%s: %s", fmt.Sprint(k), s)
			} else {
				d.field(depth+1, fmt.Sprint(k), v.MapIndex(k))
			}
		}
	default:
		if v.IsZero() {
			return
		}
		s, _ := scalar(v)
		d.line(depth, "%s: %s", name, s)
	}
}

// scalar formats a value that fits on one line: strings quoted, enums by
// name.
func scalar(v reflect.Value) (string, bool) {
	if s, ok := v.Interface().(fmt.Stringer); ok && v.Kind() != reflect.Pointer && v.Kind() != reflect.Struct {
		return s.String(), true
	}
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String()), true
	case reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		return fmt.Sprint(v.Interface()), true
	}
	return "", false
}

// protoName is a field's name in the protobuf definition, falling back to
// its JSON and Go names.
func protoName(f reflect.StructField) string {
	for part := range strings.SplitSeq(f.Tag.Get("protobuf"), ",") {
		if name, ok := strings.CutPrefix(part, "name="); ok {
			return name
		}
	}
	if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
		return name
	}
	return f.Name
}
