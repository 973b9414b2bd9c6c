// Command debugsvc is the debug target's test service: it answers
// /greet?name=NAME through greet, where the test sets a breakpoint.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
)

func greet(name string) string {
	message := "hello, " + name
	return message
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "where to listen")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening on", l.Addr())
	http.HandleFunc("/greet", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, greet(r.URL.Query().Get("name")))
	})
	log.Fatal(http.Serve(l, nil))
}
