package main

import (
	"errors"
	"flag"
	"maps"
	"strings"
	"testing"

	"github.com/moby/buildkit/util/progress/progressui"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--target", "binaries", "--label", "a=b", "--annotation", "c=d",
		"--call", "check,format=json", "--build-arg", "V=1", "--build-context", "golang:1.26=docker-image://x",
		"--progress", "plain", "dir"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"target": "binaries", "label:a": "b", "requestid": "frontend.lint",
		"build-arg:V": "1", "context:golang:1.26": "docker-image://x"}
	if !maps.Equal(o.attrs, want) {
		t.Errorf("attrs = %v, want %v", o.attrs, want)
	}
	if o.call != "check" || !o.json || o.context != "dir" || o.progress != progressui.PlainMode {
		t.Errorf("call %q json %v context %q progress %q", o.call, o.json, o.context, o.progress)
	}
	if !maps.Equal(o.annotations, map[string]string{"annotation.c": "d"}) {
		t.Errorf("annotations = %v", o.annotations)
	}

	o, err = parseFlags([]string{"--output", "type=local,dest=out", "--annotation", "k=v", "--oci", "x.tar"})
	if err != nil {
		t.Fatal(err)
	}
	exports := o.exportEntries()
	if len(exports) != 2 || exports[0].Type != "oci" || exports[0].Attrs["annotation.k"] != "v" ||
		exports[1].Type != "local" || exports[1].OutputDir != "out" || exports[1].Attrs["annotation.k"] != "" {
		t.Errorf("exports = %+v", exports)
	}
}

func TestParseFlagsRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--oci", "x", "--build-arg", "NOEQUALS"}, "--build-arg"},
		{[]string{"--oci", "x", "--label", "=v"}, "--label"},
		{[]string{"--call", "lint"}, "--call"},
		{[]string{"--call", "check,format=yaml"}, "format=json"},
		{[]string{"--oci", "x", "--progress", "rawjson"}, "--progress"},
		{[]string{"--oci", "x", "--ssh", "default=/nonexistent/agent.sock"}, "--ssh"},
		{[]string{"--oci", "x", "--cache-from", "type=local,src"}, "--cache-from"},
		{[]string{"."}, "--output"},
	} {
		if _, err := parseFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
	if _, err := parseFlags([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}
