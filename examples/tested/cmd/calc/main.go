// Command calc sums its arguments.
package main

import (
	"fmt"
	"os"
	"strconv"

	"example.com/tested/calc"
)

func main() {
	var xs []int
	for _, a := range os.Args[1:] {
		x, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		xs = append(xs, x)
	}
	fmt.Println(calc.Sum(xs...))
}
