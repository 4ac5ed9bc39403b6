package platform

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The generated certificate is a leaf for the platform's names, not a CA.
func TestGeneratedCertIsLeaf(t *testing.T) {
	cfg, info, err := LoadTLS(TLSOptions{Dir: t.TempDir(), Hosts: []string{"platform.hall.test", "10.0.0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if !info.SelfSigned || info.Note != "" {
		t.Errorf("info: %+v", info)
	}
	leaf := cfg.Certificates[0].Leaf
	if leaf.IsCA || !leaf.BasicConstraintsValid || leaf.KeyUsage != x509.KeyUsageDigitalSignature ||
		len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("IsCA %v, basic constraints %v, key usage %b, ext key usage %v",
			leaf.IsCA, leaf.BasicConstraintsValid, leaf.KeyUsage, leaf.ExtKeyUsage)
	}
	// The DER itself: basicConstraints (2.5.29.19) holds an empty SEQUENCE,
	// cA absent (false).
	for _, ext := range leaf.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 19}) && string(ext.Value) != "\x30\x00" {
			t.Errorf("basicConstraints %x, want an empty SEQUENCE (CA:FALSE)", ext.Value)
		}
	}
	if leaf.VerifyHostname("platform.hall.test") != nil || leaf.VerifyHostname("10.0.0.5") != nil {
		t.Errorf("names: %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	// A client that verifies names trusts it as itself.
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "platform.hall.test"}); err != nil {
		t.Errorf("the leaf as its own root: %v", err)
	}
}

// serveTLSOn serves a trivial handler over cfg on 127.0.0.1 and returns
// its address.
func serveTLSOn(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), cfg)
	}()
	t.Cleanup(func() { cancel(); <-served })
	return ln.Addr().String()
}

func handshake(addr string, c *tls.Config) (tls.ConnectionState, error) {
	c.InsecureSkipVerify = true // the pin is tested in sync/uploader
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, c)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

var cbcSHA1Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

// TLS 1.2 with ECDHE and AEAD suites only; TLS 1.3 only when asked.
func TestTLSSuites(t *testing.T) {
	dir := t.TempDir()
	cfg, _, err := LoadTLS(TLSOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLSOn(t, cfg)
	if cs, err := handshake(addr, &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: cbcSHA1Suites}); err == nil {
		t.Errorf("a TLS 1.2 client offering only CBC-SHA1 suites got %s", tls.CipherSuiteName(cs.CipherSuite))
	}
	if _, err := handshake(addr, &tls.Config{MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		cs, err := handshake(addr, &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: append([]uint16{suite}, cbcSHA1Suites...)})
		if err != nil || cs.CipherSuite != suite {
			t.Errorf("TLS 1.2 with %s: %s, %v", tls.CipherSuiteName(suite), tls.CipherSuiteName(cs.CipherSuite), err)
		}
	}
	if cs, err := handshake(addr, &tls.Config{}); err != nil || cs.Version != tls.VersionTLS13 {
		t.Errorf("default client: version %x, %v", cs.Version, err)
	}

	cfg13, _, err := LoadTLS(TLSOptions{Dir: dir, TLS13Only: true})
	if err != nil {
		t.Fatal(err)
	}
	addr13 := serveTLSOn(t, cfg13)
	if _, err := handshake(addr13, &tls.Config{MaxVersion: tls.VersionTLS12}); err == nil {
		t.Error("TLS13Only served a TLS 1.2 client")
	}
	if cs, err := handshake(addr13, &tls.Config{}); err != nil || cs.Version != tls.VersionTLS13 {
		t.Errorf("TLS13Only, 1.3 client: version %x, %v", cs.Version, err)
	}
}

// A CA certificate made by an older version is kept (terminals pin it),
// with a note on how to replace it.
func TestOldCACertKept(t *testing.T) {
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "yici-platform"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	os.WriteFile(filepath.Join(tlsDir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	os.WriteFile(filepath.Join(tlsDir, "cert.pem"), certPEM, 0o644)

	cfg, info, err := LoadTLS(TLSOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if info.Generated || !info.SelfSigned || string(cfg.Certificates[0].Certificate[0]) != string(der) {
		t.Errorf("the old certificate was not kept: %+v", info)
	}
	if !strings.Contains(info.Note, "CA certificate") || !strings.Contains(info.Note, "move") {
		t.Errorf("note: %q", info.Note)
	}
	if now, _ := os.ReadFile(filepath.Join(tlsDir, "cert.pem")); string(now) != string(certPEM) {
		t.Error("cert.pem was rewritten")
	}
}
