package integration

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// moduleProxy is a module proxy on loopback serving modules from local
// directories. With credentials it answers only requests that carry them,
// like a company's private GOPROXY. It records what it served.
type moduleProxy struct {
	url      string
	user     string
	password string

	mu     sync.Mutex
	served []string
}

// proxiedModule is one module version a moduleProxy serves.
type proxiedModule struct{ dir, path, version string }

func startModuleProxy(t *testing.T, withCredentials bool, mods ...proxiedModule) *moduleProxy {
	t.Helper()
	p := &moduleProxy{}
	if withCredentials {
		p.user, p.password = "gobuild-ci", "s3cr3t-t0ken-must-not-leak"
	}
	files := map[string][]byte{}
	for _, m := range mods {
		var zipData bytes.Buffer
		if err := zip.CreateFromDir(&zipData, module.Version{Path: m.path, Version: m.version}, m.dir); err != nil {
			t.Fatal(err)
		}
		goMod, err := os.ReadFile(filepath.Join(m.dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		info := []byte(`{"Version":"` + m.version + `","Time":"2026-01-01T00:00:00Z"}`)
		base := "/" + m.path + "/@v/" + m.version
		files["/"+m.path+"/@v/list"] = []byte(m.version + "\n")
		files["/"+m.path+"/@latest"] = info
		files[base+".info"], files[base+".mod"], files[base+".zip"] = info, goMod, zipData.Bytes()
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); withCredentials && (!ok || u != p.user || pw != p.password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="private"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r) // the go command then asks the next proxy
			return
		}
		p.mu.Lock()
		p.served = append(p.served, r.URL.Path)
		p.mu.Unlock()
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

// startPrivateProxy serves one module, only with credentials.
func startPrivateProxy(t *testing.T, moduleDir, path, version string) *moduleProxy {
	return startModuleProxy(t, true, proxiedModule{moduleDir, path, version})
}

// netrc is the credentials file a user passes with --secret id=netrc. The
// go command matches its machine against the proxy URL's host:port.
func (p *moduleProxy) netrc() []byte {
	return []byte("machine " + strings.TrimPrefix(p.url, "https://") + " login " + p.user + " password " + p.password + "\n")
}

// zipsServed returns the module zips served since the last call, sorted.
func (p *moduleProxy) zipsServed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var zips []string
	for _, path := range p.served {
		if strings.HasSuffix(path, ".zip") {
			zips = append(zips, path)
		}
	}
	p.served = nil
	slices.Sort(zips)
	return zips
}
