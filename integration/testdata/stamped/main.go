// Command stamped prints what the build stamped into it: its version, its
// commit and the build's date.
package main

import "fmt"

var version, commit, date = "unset", "unset", "unset"

func main() {
	fmt.Println(version, commit, date)
}
