// Command site serves the static files gobuild copies into its image.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	dir := flag.String("dir", "/srv/static", "directory to serve")
	check := flag.Bool("healthcheck", false, "check that the files are in place and exit")
	flag.Parse()
	if *check {
		if _, err := os.Stat(*dir + "/index.html"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ok")
		return
	}
	log.Fatal(http.ListenAndServe(":8080", http.FileServer(http.Dir(*dir))))
}
