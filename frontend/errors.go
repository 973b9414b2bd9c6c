package frontend

import (
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
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
