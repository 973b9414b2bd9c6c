package frontend

import (
	"errors"
	"fmt"

	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"golang.org/x/mod/modfile"
)

// withSpecSource attaches the spec's text and the lines of every problem to
// err, so that buildx prints the offending lines of gobuild.yaml.
func withSpecSource(err error, sm *llb.SourceMap) error {
	if err == nil || sm == nil || len(errdefs.Sources(err)) > 0 {
		return err
	}
	src := &errdefs.Source{Info: sourceInfo(sm)}
	for _, e := range spec.Errors(err) {
		if e.Pos.Line > 0 {
			src.Ranges = append(src.Ranges, lineRange(e.Pos))
		}
	}
	if len(src.Ranges) == 0 {
		return err
	}
	return errdefs.WithSource(err, src)
}

func sourceInfo(sm *llb.SourceMap) *pb.SourceInfo {
	info := &pb.SourceInfo{Data: sm.Data, Filename: sm.Filename, Language: sm.Language}
	if sm.Definition != nil {
		info.Definition = sm.Definition.ToPB()
	}
	return info
}

func lineRange(p spec.Pos) *pb.Range {
	line := int32(p.Line)
	return &pb.Range{Start: &pb.Position{Line: line, Character: int32(p.Column)}, End: &pb.Position{Line: line}}
}

// goModSyntax reports a go.mod that does not parse at go.mod's own lines,
// not at the spec's, so that the client shows the line to fix.
func goModSyntax(sm *llb.SourceMap) error {
	_, err := modfile.Parse(sm.Filename, sm.Data, nil)
	return modFileSyntax(sm.Filename, sm.Data, err)
}

// modFileSyntax attaches to err, a go.mod or go.work parse error, the
// file's lines it names.
func modFileSyntax(filename string, data []byte, err error) error {
	if err == nil {
		return nil
	}
	src := &errdefs.Source{Info: sourceInfo(llb.NewSourceMap(nil, filename, "", data))}
	var list modfile.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			if e.Pos.Line > 0 {
				src.Ranges = append(src.Ranges, lineRange(spec.Pos{Line: e.Pos.Line, Column: e.Pos.LineRune}))
			}
		}
	}
	err = fmt.Errorf("%w; fix %s, which the go command cannot read either", err, filename)
	if len(src.Ranges) == 0 {
		return err
	}
	return errdefs.WithSource(err, src)
}
