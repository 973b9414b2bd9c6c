// Package greet is a dependency two projects on one builder share.
package greet

// Text is what the victim prints.
func Text() string { return "genuine greeting" }
