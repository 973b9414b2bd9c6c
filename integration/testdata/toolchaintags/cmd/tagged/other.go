//go:build !(amd64.v1 || arm64.v8.0)

package main

func decompressed() string { return "another architecture level" }
