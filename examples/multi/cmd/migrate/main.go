// Command migrate is a companion tool shipped in the same image.
package main

import "fmt"

var version = "dev"

func main() { fmt.Println("migrate", version) }
