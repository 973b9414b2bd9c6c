package llb

import (
	"fmt"
	"strings"
)

// Progress names of the steps that users see in the build output and that
// the tests and the bench find steps by (to ask whether one ran or was
// cached). A name here is an interface: change it on purpose.
const (
	StepModDownload        = "go mod download"
	StepModDownloadToLayer = "go mod download (into a layer)"
	// StepModCopy copies a project's modules out of the shared cache for
	// the steps that run its code; StepHelper builds the frontend's
	// helper program (llb/helper), StepModcachePartition names the build's
	// partition of the shared cache with it.
	StepModCopy           = "[internal] copy the modules for go test and go vet"
	StepHelper            = "[internal] build gobuild's helper"
	StepModcachePartition = "[internal] module cache partition"
	StepCopyModuleFiles   = "[internal] copy go.mod and go.sum"
	StepSelectSources     = "[internal] select the files go build reads"
	// StepToolchain copies out of the builder what go build runs.
	StepToolchain = "[internal] the Go toolchain go build runs"
	// StepToolchainSources copies out of the builder the standard
	// library's sources go build reads.
	StepToolchainSources = "[internal] the standard library's sources go build reads"
	// StepReachedSources copies out of those the packages the binaries
	// reach.
	StepReachedSources = "[internal] the standard library's sources the binaries reach"
	// StepImageDirs is the layer of the workdir, the volumes and
	// image.dirs; StepEmptyDir the empty directory each is copied from.
	StepImageDirs = "image directories (workdir, volumes, image.dirs)"
	StepEmptyDir  = "[internal] empty directory"
	// StepZoneinfoTree unpacks Go's time zones for image.zoneinfotree.
	StepZoneinfoTree = "unpack the time zone database (image.zoneinfotree)"
	// StepCopyDependencyFiles is what the dependency step sees.
	StepCopyDependencyFiles = "[internal] copy the module files and vendor/"
	// StepDependenciesPrefix and StepStdLayerPrefix start the names of
	// the steps that compile a go build's dependencies into layers: the
	// modules', and the standard library's.
	StepDependenciesPrefix = "compile the dependencies "
	StepStdLayerPrefix     = "compile the standard library "
	// StepGoBuildPrefix starts every go build step's name.
	StepGoBuildPrefix = "go build "
	// StepGovulncheck builds the pinned govulncheck for the vuln target.
	StepGovulncheck = "build govulncheck " + GovulncheckVersion
)

// StepDelve names the build of delve for the debug image.
func StepDelve(platform, version string) string {
	return fmt.Sprintf("build delve %s (%s)", version, platform)
}

// StepVuln names the govulncheck run over packages.
func StepVuln(packages ...string) string {
	return "govulncheck " + strings.Join(packages, " ")
}

// StepGoBuild names the go build of packages for a platform, as
// platforms.Format writes it ("linux/arm/v7").
func StepGoBuild(platform string, packages ...string) string {
	return fmt.Sprintf("%s%s (%s)", StepGoBuildPrefix, strings.Join(packages, " "), platform)
}

// stepGoCheck names a go test or go vet (command) of packages.
func stepGoCheck(command, platform string, packages ...string) string {
	return fmt.Sprintf("go %s %s (%s)", command, strings.Join(packages, " "), platform)
}

// StepDependencies names the step that compiles the dependencies of the
// go build of packages for a platform.
func StepDependencies(platform string, packages ...string) string {
	return fmt.Sprintf("%sof %s (%s)", StepDependenciesPrefix, strings.Join(packages, " "), platform)
}

// StepStdLayer names the step that compiles the standard library packages
// the go build of packages imports for a platform.
func StepStdLayer(platform string, packages ...string) string {
	return fmt.Sprintf("%sfor %s (%s)", StepStdLayerPrefix, strings.Join(packages, " "), platform)
}
