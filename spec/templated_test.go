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
	args["GOFLAGS_ARG"] = "-pgo=goflags_arg" // goflags are flags once rendered
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
	if errs := Errors(err); len(errs) != 1 || errs[0].Pos.Line != 17 || !strings.HasPrefix(errs[0].Msg, "invalid template") || !strings.Contains(errs[0].Msg, "--build-arg") {
		t.Errorf("missing argument: %v", err)
	}
}

// TestEveryStringFieldIsDeclared guards the one list of templated fields
// (eachTemplate): every string-valued field of the spec is declared here
// as templated or plain, and the templated ones are exactly those the walk
// visits. A new field fails until someone decides which it is.
func TestEveryStringFieldIsDeclared(t *testing.T) {
	templated := []string{"Binary.Env", "Binary.Ldflags", "Image.Annotations", "Image.Env", "Image.Labels",
		"Spec.Env", "Spec.Goexperiment", "Spec.Goflags", "Spec.Gonosumdb", "Spec.Goprivate", "Spec.Goproxy", "Test.Env"}
	plain := []string{"Spec.Go", "Spec.Module", "Spec.Builder", "Spec.Platforms",
		"Binary.Package", "Binary.Name", "Binary.Tags", "Binary.Gcflags", "Binary.Asmflags", "Binary.Flags", "Binary.Platforms",
		"Image.Base", "Image.Bases", "Image.User", "Image.Entrypoint", "Image.Cmd", "Image.Workdir", "Image.Ports", "Image.Volumes", "Image.Stopsignal",
		"Healthcheck.Command", "Healthcheck.Interval", "Healthcheck.Timeout", "Healthcheck.StartPeriod",
		"File.Src", "File.Dst", "File.Owner", "File.Mode",
		"Test.Packages", "Test.Flags", "Test.Tags", "Debug.Delve", "Debug.Listen"}
	// Every string a spec can hold reads a build-arg named after its field.
	s := &Spec{Binaries: []Binary{{}}, Image: Image{Healthcheck: &Healthcheck{}, Files: []File{{}}}}
	var seen []string
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := range v.NumField() {
			f, ft := v.Field(i), v.Type().Field(i)
			if !ft.IsExported() {
				continue
			}
			key := v.Type().Name() + "." + ft.Name
			arg := reflect.ValueOf("{{.Args." + strings.ReplaceAll(key, ".", "_") + "}}")
			switch {
			case f.Kind() == reflect.String:
				f.Set(arg.Convert(f.Type()))
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
				f.Set(reflect.Append(reflect.MakeSlice(f.Type(), 0, 1), arg.Convert(f.Type().Elem())))
			case f.Kind() == reflect.Map:
				f.Set(reflect.MakeMap(f.Type()))
				f.SetMapIndex(reflect.ValueOf("k"), arg)
			case f.Kind() == reflect.Struct:
				fill(f)
				continue
			case f.Kind() == reflect.Pointer && f.Elem().Kind() == reflect.Struct:
				fill(f.Elem())
				continue
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
				for j := range f.Len() {
					fill(f.Index(j))
				}
				continue
			default:
				continue
			}
			seen = append(seen, key)
		}
	}
	fill(reflect.ValueOf(s).Elem())
	for _, key := range seen {
		if !slices.Contains(templated, key) && !slices.Contains(plain, key) {
			t.Errorf("%s is new: add it to eachTemplate if it takes templates, and to this test's lists", key)
		}
	}
	var visited []string
	for _, ref := range s.TemplateArgRefs() {
		visited = append(visited, strings.ReplaceAll(ref.Name, "_", "."))
	}
	slices.Sort(visited)
	if !slices.Equal(visited, templated) {
		t.Errorf("eachTemplate visits %q, want %q", visited, templated)
	}
}
