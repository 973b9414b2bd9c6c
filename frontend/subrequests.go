package frontend

import (
	"context"
	"sort"

	gbllb "github.com/gobuildkit/gobuild/llb"
	"github.com/gobuildkit/gobuild/spec"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
)

// subrequests answers buildx's --call=outline|targets|check.
func (b *builder) subrequests() dockerui.RequestHandler {
	return dockerui.RequestHandler{
		Outline:     func(context.Context) (*outline.Outline, error) { return b.outline(), nil },
		ListTargets: func(context.Context) (*targets.List, error) { return b.targets(), nil },
		Lint:        b.lint,
	}
}

func (b *builder) location(p spec.Pos) *pb.Location {
	if p.Line == 0 {
		return nil
	}
	return &pb.Location{SourceIndex: 0, Ranges: []*pb.Range{lineRange(p)}}
}

// outline lists the build-args the frontend reads (buildArgTable), then
// those the spec's templates read, each at its line.
func (b *builder) outline() *outline.Outline {
	s := b.spec
	o := &outline.Outline{
		Name:        s.Filename(),
		Description: "gobuild: Go binaries into a container image",
		Secrets:     []outline.Secret{{Name: gbllb.NetrcSecretID}},
		SSH:         []outline.SSH{{Name: "default"}},
		Sources:     [][]byte{b.src.Data},
	}
	seen := map[string]bool{}
	for _, a := range buildArgTable {
		seen[a.name] = true
		o.Args = append(o.Args, outline.Arg{Name: a.name, Description: a.description, Value: a.value})
	}
	for _, ref := range s.TemplateArgRefs() {
		if seen[ref.Name] {
			continue
		}
		seen[ref.Name] = true
		o.Args = append(o.Args, outline.Arg{Name: ref.Name, Description: "read by {{.Args." + ref.Name + "}}", Location: b.location(ref.Pos)})
	}
	return o
}

// targets lists targetTable, the first as the default.
func (b *builder) targets() *targets.List {
	l := &targets.List{Sources: [][]byte{b.src.Data}}
	for i, t := range targetTable {
		l.Targets = append(l.Targets, targets.Target{Name: t.name, Description: t.description, Default: i == 0})
	}
	return l
}

// lint runs the spec's lint rules on the filled spec; they need the
// context's .dockerignore, the stamps the client gives (so that a rule
// about .git is true for this build), and go.mod when it decides the
// builder.
func (b *builder) lint(ctx context.Context) (*lint.LintResults, error) {
	s := b.spec
	var goMod []byte
	if s.Builder == "" && s.Go == "" {
		goMod, _ = readContextFile(ctx, b.c, b.bc, s.ModFile())
	}
	// Without a readable go.mod the builder stays unknown and unlinted;
	// the build itself says what is wrong with go.mod.
	_ = s.FillDefaults(goMod)
	ignore, err := b.bc.DockerIgnorePatterns(ctx)
	if err != nil {
		return nil, err
	}
	// A bad build-arg fails the build itself; here what parses counts.
	args, _ := parseBuildArgs(b.bc.BuildArgs)
	given := vcsGiven(args, b.bc.BuildOpts().Opts[keyVCSRevision])
	res := &lint.LintResults{Sources: []*pb.SourceInfo{sourceInfo(b.src.SourceMap)}}
	findings := spec.Lint(s, spec.LintInput{Dockerignore: ignore, Given: given})
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Pos.Line < findings[j].Pos.Line })
	for _, f := range findings {
		res.Warnings = append(res.Warnings, lint.Warning{
			RuleName:    f.Rule,
			Description: f.Description,
			Detail:      f.Detail,
			Location:    b.location(f.Pos),
		})
	}
	if res.Warnings == nil {
		res.Warnings = []lint.Warning{}
	}
	return res, nil
}
