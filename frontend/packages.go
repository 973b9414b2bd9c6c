package frontend

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"path"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
)

// checkPackages makes sure every binary's package exists in the context and
// is a main package before anything is compiled, transferring only the
// packages' directories. Build constraints are not evaluated: a directory
// whose Go files all say "package main" is taken for a main package.
func (b *builder) checkPackages(ctx context.Context) error {
	s := b.spec
	dirs := make([]string, len(s.Binaries))
	var follow []string
	for i, bin := range s.Binaries {
		dirs[i] = path.Join(s.Module, bin.Package)
		follow = append(follow, dirs[i])
	}
	st, err := b.bc.MainContext(ctx, llb.FollowPaths(follow), dockerui.WithInternalName("load the binaries' packages"))
	if err != nil {
		return err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	res, err := b.c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return err
	}
	var errs []error
	for i, dir := range dirs {
		if err := checkMainPackage(ctx, ref, dir); err != nil {
			errs = append(errs, s.ErrorAt([]any{"binaries", i, "package"}, "binaries[%d].package %s: %v", i, s.Binaries[i].Package, err))
		}
	}
	return joinErrors(errs)
}

func checkMainPackage(ctx context.Context, ref client.Reference, dir string) error {
	entries, err := ref.ReadDir(ctx, client.ReadDirRequest{Path: dir, IncludePattern: "*.go"})
	if err != nil {
		return fmt.Errorf("no such directory in the build context (is it excluded by .dockerignore?)")
	}
	seen := false
	for _, e := range entries {
		if strings.HasSuffix(e.Path, "_test.go") || e.IsDir() {
			continue
		}
		data, err := ref.ReadFile(ctx, client.ReadRequest{Filename: path.Join(dir, e.Path), Range: &client.FileRange{Length: 64 << 10}})
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), e.Path, data, parser.PackageClauseOnly)
		if err != nil {
			continue // go build will report it, with the compiler's words
		}
		if f.Name.Name != "main" {
			return fmt.Errorf("is package %s, not a main package", f.Name.Name)
		}
		seen = true
	}
	if !seen {
		return fmt.Errorf("has no Go files")
	}
	return nil
}
