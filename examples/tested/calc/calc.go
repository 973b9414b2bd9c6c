// Package calc is the library the tested example's tests cover.
package calc

// Sum adds numbers.
func Sum(xs ...int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}
