// Package rosetta stands in for github.com/tonistiigi/go-rosetta, which the
// Go module proxy does not serve; see the replace directive in ../go.mod.
package rosetta

// Enabled reports whether the process runs under Rosetta translation: never,
// on the Linux machines the tests run on.
func Enabled() bool { return false }
