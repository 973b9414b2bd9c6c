//go:build amd64.v1 || arm64.v8.0

package main

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
)

func decompressed() string {
	_, err := io.ReadAll(bzip2.NewReader(bytes.NewReader([]byte("BZh9"))))
	return fmt.Sprint("bzip2: ", err)
}
