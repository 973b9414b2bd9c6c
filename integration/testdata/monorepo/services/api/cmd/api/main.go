// Command api serves what the shared library answers.
package main

import (
	"fmt"

	"example.com/monorepo/lib"
)

func main() { fmt.Println(lib.Answer()) }
