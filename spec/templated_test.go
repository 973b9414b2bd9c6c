package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// everyTemplate sets every templated field of the spec to read a build-arg
// named after the field, so a field the walk misses shows by name.
const everyTemplate = `version: 1
goproxy: "{{.Args.GOPROXY_ARG}}"
goprivate: "{{.Args.GOPRIVATE_ARG}}"
gonosumdb: "{{.Args.GONOSUMDB_ARG}}"
goflags: "{{.Args.GOFLAGS_ARG}}"
goexperiment: "{{.Args.GOEXPERIMENT_ARG}}"
env: {E: "{{.Args.ENV_ARG}}"}
binaries:
  - package: ./cmd/a
    ldflags: ["-X main.v={{.Args.LDFLAGS_ARG}}"]
    env: {B: "{{.Args.BINARY_ENV_ARG}}"}
image:
  env: {I: "{{.Args.IMAGE_ENV_ARG}}"}
  labels: {l: "{{.Args.LABEL_ARG}}"}
  annotations: {a: "{{.Args.ANNOTATION_ARG}}"}
test:
  env: {T: "{{.Args.TEST_ENV_ARG}}"}
`

var everyTemplateArgs = []string{"GOPROXY_ARG", "GOPRIVATE_ARG", "GONOSUMDB_ARG", "GOFLAGS_ARG", "GOEXPERIMENT_ARG", "ENV_ARG", "LDFLAGS_ARG", "BINARY_ENV_ARG", "IMAGE_ENV_ARG", "LABEL_ARG", "ANNOTATION_ARG", "TEST_ENV_ARG"}

func TestTemplateArgRefs(t *testing.T) {
	s := mustParse(t, everyTemplate)
	var got []string
	for _, ref := range s.TemplateArgRefs() {
		got = append(got, ref.Name)
	}
	if !slices.Equal(got, everyTemplateArgs) {
		t.Errorf("args in file order = %q\nwant %q", got, everyTemplateArgs)
	}
	lines := map[string]int{}
	for _, ref := range s.TemplateArgRefs() {
		lines[ref.Name] = ref.Pos.Line
	}
	for name, line := range map[string]int{"GOPROXY_ARG": 2, "ENV_ARG": 7, "LDFLAGS_ARG": 10, "BINARY_ENV_ARG": 11, "LABEL_ARG": 14, "TEST_ENV_ARG": 17} {
		if lines[name] != line {
			t.Errorf("%s at line %d, want %d", name, lines[name], line)
		}
	}
	if refs := mustParse(t, "version: 1\nbinaries: [{package: ./a, ldflags: ['{{.Version}} {{if .Args.X}}{{.Args.Y}}{{end}}']}]\n").TemplateArgRefs(); len(refs) != 2 || refs[0].Name != "X" || refs[1].Name != "Y" {
		t.Errorf("args inside if = %+v", refs)
	}
}

// TestTemplateFieldsAreValidated: a broken template in any templated field
// is an error at its line.
func TestTemplateFieldsAreValidated(t *testing.T) {
	for _, arg := range everyTemplateArgs {
		t.Run(arg, func(t *testing.T) {
			broken := strings.Replace(everyTemplate, "{{.Args."+arg+"}}", "{{.Nope}}", 1)
			_, err := Parse("gobuild.yaml", []byte(broken))
			line := 1 + slices.IndexFunc(strings.Split(broken, "\n"), func(l string) bool { return strings.Contains(l, "{{.Nope}}") })
			errs := Errors(err)
			if len(errs) != 1 || errs[0].Pos.Line != line || !strings.Contains(errs[0].Msg, "invalid template") {
				t.Errorf("errors = %v, want one invalid template at line %d", err, line)
			}
		})
	}
}

func TestRendered(t *testing.T) {
	s := mustParse(t, everyTemplate)
	args := map[string]string{}
	for _, a := range everyTemplateArgs {
		args[a] = strings.ToLower(a)
	}
	data := TemplateData{Args: args}
	all, err := s.Rendered(data, PartGo, PartBinary(0), PartImage, PartTest)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(all.Goproxy, all.Goprivate, all.Gonosumdb, all.Goflags, all.Goexperiment, all.Env, all.Binaries[0].Ldflags, all.Binaries[0].Env,
		all.Image.Env, all.Image.Labels, all.Image.Annotations, all.Test.Env)
	for _, a := range everyTemplateArgs {
		if !strings.Contains(got, strings.ToLower(a)) {
			t.Errorf("%s not rendered: %s", a, got)
		}
	}
	if strings.Contains(got, "{{") {
		t.Errorf("a template is left: %s", got)
	}
	if !strings.Contains(s.Image.Labels["l"], "{{") || !strings.Contains(s.Binaries[0].Ldflags[0], "{{") {
		t.Error("rendering changed the original spec")
	}

	// Only the parts asked for are rendered, so an argument only the test
	// target reads is not needed to build the image.
	delete(args, "TEST_ENV_ARG")
	some, err := s.Rendered(data, PartGo, PartImage)
	if err != nil {
		t.Fatalf("rendering without the test's argument: %v", err)
	}
	if some.Goproxy != "goproxy_arg" || some.Image.Labels["l"] != "label_arg" || some.Binaries[0].Env["B"] != "{{.Args.BINARY_ENV_ARG}}" || some.Test.Env["T"] != "{{.Args.TEST_ENV_ARG}}" {
		t.Errorf("parts: goproxy=%q label=%q binary env=%q test env=%q", some.Goproxy, some.Image.Labels["l"], some.Binaries[0].Env["B"], some.Test.Env["T"])
	}
	_, err = s.Rendered(data, PartTest)
	if errs := Errors(err); len(errs) != 1 || errs[0].Pos.Line != 17 || !strings.Contains(errs[0].Msg, "test.env[T]: invalid template") || !strings.Contains(errs[0].Msg, "--build-arg") {
		t.Errorf("missing argument: %v", err)
	}
}

// TestEveryStringFieldIsDeclared guards the one list of templated fields:
// a new map[string]string or []string field of the spec must be decided
// on (templated or not) here, or it could silently not be rendered.
func TestEveryStringFieldIsDeclared(t *testing.T) {
	templated := map[string]bool{"Spec.Env": true, "Binary.Ldflags": true, "Binary.Env": true, "Image.Env": true, "Image.Labels": true, "Image.Annotations": true, "Test.Env": true}
	plain := map[string]bool{"Spec.Platforms": true, "Binary.Tags": true, "Binary.Gcflags": true, "Binary.Asmflags": true, "Binary.Flags": true, "Binary.Platforms": true,
		"Image.Bases": true, "Image.Entrypoint": true, "Image.Cmd": true, "Image.Volumes": true, "Image.Ports": true, "Healthcheck.Command": true, "Test.Packages": true, "Test.Flags": true, "Test.Tags": true}
	var walk func(reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(ty reflect.Type) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		for f := range ty.Fields() {
			if !f.IsExported() {
				continue
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			key := ty.Name() + "." + f.Name
			switch {
			case ft.Kind() == reflect.Struct:
				walk(ft)
			case ft.Kind() == reflect.Map || ft.Kind() == reflect.Slice:
				if !templated[key] && !plain[key] {
					t.Errorf("%s is new: add it to eachTemplate if it takes templates, and to this test's lists", key)
				}
			}
		}
	}
	walk(reflect.TypeFor[Spec]())
}
