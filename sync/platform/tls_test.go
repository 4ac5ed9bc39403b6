package platform

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadTLS(t *testing.T) {
	dir := t.TempDir()
	cfg, info, err := LoadTLS(TLSOptions{Dir: dir, Hosts: []string{"platform.hall.test", "10.0.0.5"}})
	if err != nil || !info.Generated || !info.SelfSigned || info.CertFile != filepath.Join(dir, "tls", "cert.pem") {
		t.Fatalf("first start: %+v, %v", info, err)
	}
	leaf := cfg.Certificates[0].Leaf
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() || leaf.VerifyHostname("10.0.0.5") != nil || leaf.VerifyHostname("platform.hall.test") != nil {
		t.Errorf("generated certificate: %v %v %v", leaf.PublicKeyAlgorithm, leaf.DNSNames, leaf.IPAddresses)
	}
	if st, err := os.Stat(filepath.Join(dir, "tls", "key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", st.Mode(), err)
	}
	_, again, err := LoadTLS(TLSOptions{Dir: dir})
	if err != nil || again.Generated || again.Fingerprint != info.Fingerprint {
		t.Errorf("second start made a new certificate: %+v, %v", again, err)
	}
	// A configured certificate by path: the generated one will do.
	_, conf, err := LoadTLS(TLSOptions{CertFile: info.CertFile, KeyFile: filepath.Join(dir, "tls", "key.pem")})
	if err != nil || conf.Generated || conf.Fingerprint != info.Fingerprint {
		t.Errorf("configured certificate: %+v, %v", conf, err)
	}

	for _, c := range []struct {
		name string
		opt  func(d string) TLSOptions
		want string
	}{
		{"cert without key", func(d string) TLSOptions { return TLSOptions{CertFile: filepath.Join(d, "c.pem")} }, "together"},
		{"no dir", func(string) TLSOptions { return TLSOptions{} }, "no data directory"},
		{"key lost", func(d string) TLSOptions {
			LoadTLS(TLSOptions{Dir: d})
			os.Remove(filepath.Join(d, "tls", "key.pem"))
			return TLSOptions{Dir: d}
		}, "only one of"},
		{"missing files", func(d string) TLSOptions {
			return TLSOptions{CertFile: filepath.Join(d, "c.pem"), KeyFile: filepath.Join(d, "k.pem")}
		}, "load certificate"},
	} {
		if _, _, err := LoadTLS(c.opt(t.TempDir())); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestServeTLSAndShutdown(t *testing.T) {
	cfg, info, err := LoadTLS(TLSOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, h, cfg) }()

	pem, _ := os.ReadFile(info.CertFile)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	answer := make(chan string, 1)
	go func() {
		resp, err := client.Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer <- string(b)
	}()
	time.Sleep(100 * time.Millisecond) // the request is in flight
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Errorf("request in flight during shutdown: %q", got)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
