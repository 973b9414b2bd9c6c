// Command app prints what the workspace's library says.
package main

import (
	"fmt"

	"example.com/ws/lib"
)

func main() { fmt.Println(lib.Say()) }
