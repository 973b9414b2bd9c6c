// Command hello greets with a vendored dependency.
package main

import (
	"fmt"

	"example.com/greeting"
)

func main() { fmt.Println(greeting.Hello("vendor")) }
