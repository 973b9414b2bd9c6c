// Command server prints its version and a UUID, so the tests can see both
// the injected ldflags and the third-party dependency at work.
package main

import (
	"embed"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
)

var version = "unset"

// The embedded files make the build depend on non-Go files, which the
// cache-key tests edit.
//
//go:embed greeting.txt
var greeting string

//go:embed static
var static embed.FS

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Printf("server %s %s\n", version, uuid.NewSHA1(uuid.NameSpaceURL, []byte("gobuild")))
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "greet" {
		page, _ := static.ReadFile("static/index.html")
		fmt.Print(greeting, string(page))
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "tz" {
		loc, err := time.LoadLocation("America/New_York")
		if err != nil {
			fmt.Println("tz error:", err)
			os.Exit(1)
		}
		fmt.Println("tz", loc)
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello", version) })
	_ = http.ListenAndServe(":8080", nil)
}
