// Command app writes where a nonroot service keeps its state and prints
// "ok" when every write succeeded.
package main

import (
	"fmt"
	"os"
)

func main() {
	seed, err := os.ReadFile("/var/lib/app/seed.txt")
	if err != nil {
		fail(err)
	}
	for _, name := range []string{"in-workdir.txt", "/data/in-volume.txt", "/var/cache/app/in-dirs.txt", "/var/lib/app/in-files.txt"} {
		if err := os.WriteFile(name, seed, 0o644); err != nil {
			fail(err)
		}
	}
	fmt.Println("ok")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
