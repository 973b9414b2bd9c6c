package specdoc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const (
	specDir = "../../spec"
	docsDir = "../../docs"
)

// TestGeneratedFilesFresh fails when the spec's types changed and
// go generate ./spec was not run.
func TestGeneratedFilesFresh(t *testing.T) {
	for name, gen := range map[string]func(string) ([]byte, error){SchemaFile: Schema, ReferenceFile: Reference} {
		want, err := gen(specDir)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(docsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/%s is stale; run go generate ./spec", name)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := Schema(specDir)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSON turns a spec into the JSON value a YAML language server
// checks against the schema.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAcceptsExamples: every example validates and names the schema
// for editors.
func TestSchemaAcceptsExamples(t *testing.T) {
	schema := compileSchema(t)
	files, err := filepath.Glob("../../examples/*/gobuild.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "# yaml-language-server: $schema="+SchemaID) {
			t.Errorf("%s does not reference the schema", f)
		}
		if err := schema.Validate(yamlToJSON(t, data)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSchemaRejectsBadSpecs(t *testing.T) {
	schema := compileSchema(t)
	bad := map[string]string{
		"unknown field":    "version: 1\nbinaries: [{package: ./x}]\nimgae: {}\n",
		"wrong type":       "version: 1\nbinaries: [{package: ./x, tags: netgo}]\n",
		"missing binaries": "version: 1\n",
		"version 2":        "version: 2\nbinaries: [{package: ./x}]\n",
		"port too big":     "version: 1\nbinaries: [{package: ./x}]\nimage: {ports: [70000]}\n",
		"binary no pkg":    "version: 1\nbinaries: [{name: x}]\n",
	}
	for name, spec := range bad {
		if err := schema.Validate(yamlToJSON(t, []byte(spec))); err == nil {
			t.Errorf("%s: the schema accepted %q", name, spec)
		}
	}
}
