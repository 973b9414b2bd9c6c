// Command worker is a second main package in the same module.
package main

import "fmt"

var version = "unset"

func main() { fmt.Println("worker", version) }
