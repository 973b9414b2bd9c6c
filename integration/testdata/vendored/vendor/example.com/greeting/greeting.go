// Package greeting is a dependency that exists only in vendor/: no proxy
// serves it.
package greeting

// Hello greets name.
func Hello(name string) string { return "hello from " + name }
