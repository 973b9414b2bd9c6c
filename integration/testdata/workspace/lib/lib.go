// Package lib is a workspace member the app requires.
package lib

// Say is what the app prints.
func Say() string { return "workspace lib" }
