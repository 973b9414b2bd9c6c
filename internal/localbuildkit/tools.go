package localbuildkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// buildTools builds the named tools of the tools module that are not built
// yet, into a directory of the user's cache keyed by that module's content.
func buildTools(ctx context.Context, toolsDir string, tools []string, logf func(string, ...any)) (string, error) {
	sum, err := os.ReadFile(filepath.Join(toolsDir, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("reading the tools module: %w", err)
	}
	mod, err := os.ReadFile(filepath.Join(toolsDir, "go.mod"))
	if err != nil {
		return "", err
	}
	// toolsRecipe changes when the way the tools are built does.
	const toolsRecipe = "versions stamped\n"
	h := sha256.Sum256(append(append([]byte(toolsRecipe), mod...), sum...))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	// The directory keeps the name it had when the tests alone used it,
	// so that tools built before are found.
	bin := filepath.Join(cache, "gobuild-testbed", hex.EncodeToString(h[:8]))
	// A stamp per tool, written once its build succeeded.
	stamp := func(pkg string) string { return filepath.Join(bin, ".built-"+path.Base(pkg)) }
	var missing, names []string
	for _, pkg := range tools {
		if _, err := os.Stat(stamp(pkg)); err != nil {
			missing = append(missing, pkg)
			names = append(names, path.Base(pkg))
		}
	}
	if len(missing) == 0 {
		return bin, nil
	}
	logf("building %s into %s (a few minutes the first time)", strings.Join(names, ", "), bin)
	ldflags, err := versionFlags(ctx, toolsDir)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-ldflags", ldflags, "-o", bin + string(filepath.Separator)}, missing...)...)
	cmd.Dir = toolsDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the tools: %w\n%s", err, out)
	}
	for _, pkg := range missing {
		if err := os.WriteFile(stamp(pkg), nil, 0o644); err != nil {
			return "", err
		}
	}
	return bin, nil
}

// versionFlags stamps the tools' module versions into them, as their
// release builds do, so that `buildkitd --version`, `docker version` and
// `docker buildx version` say which release runs.
func versionFlags(ctx context.Context, toolsDir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Version}}",
		"github.com/moby/buildkit", "github.com/docker/buildx", "github.com/docker/cli")
	cmd.Dir = toolsDir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("listing the tools' versions: %w", err)
	}
	versionVar := map[string]string{
		"github.com/moby/buildkit": "github.com/moby/buildkit/version.Version",
		"github.com/docker/buildx": "github.com/docker/buildx/version.Version",
		"github.com/docker/cli":    "github.com/docker/cli/cli/version.Version",
	}
	var flags []string
	for line := range strings.Lines(string(out)) {
		mod, version, _ := strings.Cut(strings.TrimSpace(line), " ")
		// The docker CLI is CalVer behind +incompatible: v29.7.2+incompatible is 29.7.2.
		if mod == "github.com/docker/cli" {
			version = strings.TrimPrefix(strings.TrimSuffix(version, "+incompatible"), "v")
		}
		flags = append(flags, "-X", versionVar[mod]+"="+version)
	}
	return strings.Join(flags, " "), nil
}
