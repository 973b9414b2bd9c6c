// Command site serves the static files gobuild copies into its image.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
)

func main() {
	dir := flag.String("dir", "/srv/static", "directory to serve")
	addr := flag.String("addr", ":8080", "address to listen on")
	check := flag.Bool("healthcheck", false, "ask the running server for /index.html and exit")
	flag.Parse()
	if *check {
		if err := healthcheck(*addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ok")
		return
	}
	log.Fatal(http.ListenAndServe(*addr, http.FileServer(http.Dir(*dir))))
}

// healthcheck asks the server on addr for its index page: the check passes
// only if the server can read its files.
func healthcheck(addr string) error {
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	resp, err := http.Get("http://" + addr + "/index.html")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /index.html: %s", resp.Status)
	}
	return nil
}
