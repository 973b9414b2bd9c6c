package integration

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// privateProxy is a module proxy on loopback that serves one module and
// only with credentials, like a company's private GOPROXY.
type privateProxy struct {
	url      string
	user     string
	password string
}

func startPrivateProxy(t *testing.T, moduleDir, path, version string) *privateProxy {
	t.Helper()
	mv := module.Version{Path: path, Version: version}
	var zipData bytes.Buffer
	if err := zip.CreateFromDir(&zipData, mv, moduleDir); err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(moduleDir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	p := &privateProxy{user: "gobuild-ci", password: "s3cr3t-t0ken-must-not-leak"}
	info := []byte(`{"Version":"` + version + `","Time":"2026-01-01T00:00:00Z"}`)
	files := map[string][]byte{
		"/" + path + "/@v/list":                 []byte(version + "\n"),
		"/" + path + "/@v/" + version + ".info": info,
		"/" + path + "/@v/" + version + ".mod":  goMod,
		"/" + path + "/@v/" + version + ".zip":  zipData.Bytes(),
		"/" + path + "/@latest":                 info,
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != p.user || pw != p.password {
			w.Header().Set("WWW-Authenticate", `Basic realm="private"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r) // the go command then asks the next proxy
			return
		}
		_, _ = w.Write(data)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, TLSConfig: &tls.Config{Certificates: []tls.Certificate{ca.server}}}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "https://" + l.Addr().String()
	return p
}

// netrc is the credentials file a user passes with --secret id=netrc. The
// go command matches its machine against the proxy URL's host:port.
func (p *privateProxy) netrc() []byte {
	return []byte("machine " + strings.TrimPrefix(p.url, "https://") + " login " + p.user + " password " + p.password + "\n")
}
