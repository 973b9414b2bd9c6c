// The program compares two values with go-cmp. The test later imports
// another package of the same module, which no build before reached.
package main

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
)

func main() {
	fmt.Println("equal:", cmp.Equal([]int{1, 2}, []int{1, 2}))
}
