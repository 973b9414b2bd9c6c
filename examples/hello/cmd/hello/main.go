// Command hello is a small HTTP service: the example gobuild builds.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

// version is set at link time from gobuild.yaml's ldflags.
var version = "dev"

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	printVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *printVersion {
		fmt.Println("hello", version)
		return
	}

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s, version %s\n", hostname(), version)
	})
	http.HandleFunc("/time", func(w http.ResponseWriter, r *http.Request) {
		// Time zones come from the static base's zoneinfo.
		loc, err := time.LoadLocation(r.URL.Query().Get("tz"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, time.Now().In(loc).Format(time.RFC3339))
	})
	log.Printf("hello %s listening on %s", version, *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
