// Package greet stands for a private module: the tests serve it from an
// authenticated module proxy.
package greet

// Hello greets someone.
func Hello(name string) string { return "hello, " + name + ", from a private module" }
