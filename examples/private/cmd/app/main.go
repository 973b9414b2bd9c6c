// Command app depends on a module only a private proxy serves.
package main

import (
	"fmt"

	"example.com/private/greet"
)

func main() { fmt.Println(greet.Hello("gobuild")) }
