package main

import (
	"fmt"

	"example.com/shared/greet"
)

func main() { fmt.Println(greet.Text()) }
