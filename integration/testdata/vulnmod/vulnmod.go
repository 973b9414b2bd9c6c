// Package vulnmod is a module with a made-up vulnerability in Bad, which
// the vuln target's tests list in a vulnerability database of their own.
package vulnmod

// Bad is the vulnerable function.
func Bad(n int) int { return n * 2 }

// Good is not.
func Good(n int) int { return n + 1 }
