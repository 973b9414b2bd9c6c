// Command api is the service of the multi-binary example.
package main

import (
	"fmt"
	"os"
)

var (
	version = "dev"
	commit  = "none"
)

func main() {
	fmt.Printf("api %s (%s) built for %s\n", version, commit, os.Getenv("GOBUILD_TARGET"))
}
