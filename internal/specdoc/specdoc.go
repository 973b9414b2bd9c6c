// Package specdoc generates the JSON Schema of gobuild.yaml and its
// reference documentation from the spec package's Go types and their doc
// comments, so that the types stay the one source of truth.
package specdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/gobuildkit/gobuild/frontend"
	"github.com/gobuildkit/gobuild/spec"
)

// SchemaID is where the schema is published; examples reference it in
// their yaml-language-server comment.
const SchemaID = "https://raw.githubusercontent.com/gobuildkit/gobuild/main/docs/gobuild.schema.json"

// fieldDoc is what a field's doc comment says.
type fieldDoc struct {
	text     string
	defValue string
	example  string
}

// parseSpecFiles parses the non-test Go files of the spec package with
// their comments; the package has no build-tagged files to tell apart.
func parseSpecFiles(specDir string) ([]*ast.File, error) {
	names, err := filepath.Glob(filepath.Join(specDir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// comments reads the doc comments of the spec package's struct fields,
// keyed by "Type.Field".
func comments(specDir string) (map[string]fieldDoc, map[string]string, error) {
	files, err := parseSpecFiles(specDir)
	if err != nil {
		return nil, nil, err
	}
	fields := map[string]fieldDoc{}
	types := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, sp := range gd.Specs {
				ts, ok := sp.(*ast.TypeSpec)
				if !ok {
					continue
				}
				if gd.Doc != nil {
					types[ts.Name.Name] = strings.TrimSpace(gd.Doc.Text())
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fl := range st.Fields.List {
					if fl.Doc == nil || len(fl.Names) == 0 {
						continue
					}
					fields[ts.Name.Name+"."+fl.Names[0].Name] = parseDoc(fl.Doc.Text())
				}
			}
		}
	}
	return fields, types, nil
}

// parseDoc splits "Default:" and "Example:" lines from the description.
func parseDoc(text string) fieldDoc {
	var d fieldDoc
	var desc []string
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		switch {
		case strings.HasPrefix(line, "Default: "):
			d.defValue = strings.TrimPrefix(line, "Default: ")
		case strings.HasPrefix(line, "Example: "):
			d.example = strings.TrimPrefix(line, "Example: ")
		default:
			desc = append(desc, line)
		}
	}
	d.text = strings.Join(desc, " ")
	return d
}

// Schema returns the JSON Schema (draft 2020-12) of gobuild.yaml.
func Schema(specDir string) ([]byte, error) {
	fields, _, err := comments(specDir)
	if err != nil {
		return nil, err
	}
	g := &schemaGen{fields: fields, defs: map[string]any{}}
	root := g.object(reflect.TypeFor[spec.Spec]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "gobuild.yaml"
	root["$defs"] = g.defs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type schemaGen struct {
	fields map[string]fieldDoc
	defs   map[string]any
}

// required lists the fields validation insists on; the schema says so too.
var required = map[string][]string{
	"Spec":        {"version", "binaries"},
	"Binary":      {"package"},
	"Healthcheck": {"command"},
	"File":        {"src", "dst"},
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || !f.IsExported() {
			continue
		}
		s := g.typeSchema(f.Type)
		if d, ok := g.fields[t.Name()+"."+f.Name]; ok {
			s["description"] = d.text
			if d.defValue != "" {
				s["description"] = d.text + " Default: " + d.defValue + "."
			}
		}
		switch t.Name() + "." + f.Name {
		case "Spec.Version":
			s["const"] = 1
		case "Image.Base":
			s["examples"] = []string{spec.BaseStatic, spec.BaseScratch, "gcr.io/distroless/static-debian12"}
		}
		props[name] = s
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if r, ok := required[t.Name()]; ok {
		o["required"] = r
	}
	return o
}

func (g *schemaGen) typeSchema(t reflect.Type) map[string]any {
	if t == reflect.TypeFor[spec.Port]() {
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "integer", "minimum": 1, "maximum": 65535},
			map[string]any{"type": "string", "pattern": `^[0-9]{1,5}(/(tcp|udp|sctp))?$`},
		}}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.typeSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(t.Elem())}
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = nil // break cycles
			g.defs[t.Name()] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + t.Name()}
	}
	panic(fmt.Sprintf("specdoc: no schema for %v", t))
}

// Reference returns docs/reference.md: every field with its type, default,
// description and example.
func Reference(specDir string) ([]byte, error) {
	fields, types, err := comments(specDir)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# gobuild.yaml reference\n\n")
	b.WriteString("Generated from the Go types in `spec/` by `go generate ./spec`; do not edit.\n")
	b.WriteString("Editors that speak the YAML language server get completion and checks from\n")
	b.WriteString("`# yaml-language-server: $schema=" + SchemaID + "`.\n")
	b.WriteString("\nTemplates (in ldflags, env, labels and annotations) can use: ")
	b.WriteString("`{{.Version}}`, `{{.Commit}}`, `{{.ShortCommit}}`, `{{.Date}}`, `{{.Args.NAME}}`, ")
	b.WriteString("`{{.Target.OS}}`, `{{.Target.Arch}}`, `{{.Target.Variant}}`. An unknown field or a missing build-arg is an error ")
	b.WriteString("(with `{{index .Args \"NAME\"}}` too; `{{arg \"NAME\"}}` reads an optional one).\n")
	b.WriteString("`{{.Version}}` is the `VERSION` build-arg, else what `git describe --tags --always` says of the context's `.git`, else `dev` (with a warning); ")
	b.WriteString("`{{.Commit}}` is the client's `vcs:revision` (buildx sends it for a git checkout), else the context's git HEAD, else a template that reads it is an error; ")
	b.WriteString("`{{.Date}}` is `SOURCE_DATE_EPOCH`, else HEAD's commit time (whichever client builds), else the Unix epoch, never the wall clock. ")
	b.WriteString("`{{.ShortCommit}}` is the commit's first 7 characters, as `git rev-parse --short` gives it. ")
	b.WriteString("The frontend reads `.git` itself (refs and objects only): the builder image needs no git.\n")
	b.WriteString("\nA template renders one short value, and a spec is read by whoever can send one to the frontend, so rendering is bounded: ")
	b.WriteString("`{{range}}`, `{{define}}`, `{{block}}` and `{{template}}` are refused (`{{if}}` and `{{with}}` are fine), ")
	b.WriteString("`printf` takes widths and precisions up to 256 and none from an argument (`%*d`), ")
	b.WriteString("a value renders to at most 64 KiB, and the templates of a spec make at most 16 MiB in all. ")
	b.WriteString("A spec file is at most 1 MiB, a mapping in it at most 1000 keys, and it holds at most 100000 values with YAML aliases expanded; ")
	b.WriteString("an error lists the first 20 problems and how many more there are.\n")
	b.WriteString("\nTemplate functions, besides Go's own (`printf`, `index`, ...):\n\n")
	b.WriteString("| function | example | gives |\n| --- | --- | --- |\n")
	b.WriteString("| `trimPrefix` | `{{.Version \\| trimPrefix \"v\"}}` | `1.2.3` for `v1.2.3` |\n")
	b.WriteString("| `trimSuffix` | `{{.Version \\| trimSuffix \"-rc\"}}` | `v1.2.3` for `v1.2.3-rc` |\n")
	b.WriteString("| `date` | `{{.Date \\| date \"2006-01-02\"}}` | the build date in a Go time layout: `2023-11-14` |\n")
	b.WriteString("| `arg` | `{{arg \"CHANNEL\"}}` | an optional build-arg, empty when not given (`{{.Args.CHANNEL}}` is an error then) |\n")
	b.WriteString("| `default` | `{{arg \"CHANNEL\" \\| default \"stable\"}}` | the value, or the fallback when it is empty |\n")
	b.WriteString("\nTargets (`--target`): ")
	var names []string
	for _, t := range frontend.Targets() {
		names = append(names, fmt.Sprintf("`%s`: %s", t.Name, t.Description))
	}
	b.WriteString(strings.Join(names, "; ") + ".\n")
	b.WriteString("\nBuild-args the frontend reads (`--build-arg`; the templates read any other through `{{.Args.NAME}}`):\n\n")
	b.WriteString("| build-arg | default | description |\n| --- | --- | --- |\n")
	for _, a := range frontend.BuildArgs() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", a.Name, defaultCell(a.Default), strings.ReplaceAll(a.Description, "|", "\\|"))
	}
	b.WriteString("\nAttestations: `--sbom=true` (or `--attest type=sbom`) attaches gobuild's own SBOM to each platform's image, an SPDX 2.3 document made from the binaries' build info (each linked module with its go.sum hash, the Go version, the build settings; never `-ldflags`), so BuildKit runs no scanner; ")
	b.WriteString("`--attest type=sbom,generator=IMAGE` runs that scanner instead. `--provenance=mode=max` is BuildKit's own: it records the spec file, the build-args (pass credentials as the `netrc` secret, never as a build-arg) and the frontend image.\n")

	seen := map[string]bool{}
	var walk func(t reflect.Type, title string)
	walk = func(t reflect.Type, title string) {
		if seen[t.Name()] {
			return
		}
		seen[t.Name()] = true
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		if d := types[t.Name()]; d != "" {
			b.WriteString(new(doc.Package).Synopsis(d) + "\n\n")
		}
		b.WriteString("| field | type | default | description | example |\n| --- | --- | --- | --- | --- |\n")
		var nested []reflect.StructField
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || !f.IsExported() {
				continue
			}
			d := fields[t.Name()+"."+f.Name]
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", name, typeName(f.Type), value(d.defValue), escape(d.text), code(d.example))
			if st := structOf(f.Type); st != nil {
				nested = append(nested, f)
			}
		}
		for _, f := range nested {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			walk(structOf(f.Type), fmt.Sprintf("%s (`%s`)", structOf(f.Type).Name(), name))
		}
	}
	walk(reflect.TypeFor[spec.Spec](), "Spec (the file's root)")
	return b.Bytes(), nil
}

func structOf(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		return t
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[spec.Port]():
		return "port"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem())
	case t.Kind() == reflect.Struct:
		return t.Name()
	case t.Kind() == reflect.Int:
		return "integer"
	}
	return t.Kind().String()
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// value shows a default as code when it is a literal, as prose when it
// describes where the value comes from.
func value(s string) string {
	if strings.Contains(s, " ") && !strings.HasPrefix(s, `"`) {
		return escape(strings.TrimSuffix(s, "."))
	}
	return code(s)
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// The generated files, in docs/.
const (
	SchemaFile    = "gobuild.schema.json"
	ReferenceFile = "reference.md"
)

// defaultCell is a default in a table: code, or nothing.
func defaultCell(v string) string {
	if v == "" {
		return ""
	}
	return "`" + v + "`"
}
