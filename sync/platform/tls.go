package platform

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"yici/sync/seal"
)

// TLS is on by default (S19: personal data is encrypted in transit). A
// platform without a configured certificate makes a self-signed one on its
// first start and keeps it in its data directory; terminals pin that
// certificate file (uploader.PinnedTransport), so no CA is involved: the
// generated certificate is a leaf (not a CA) for the platform's names. A
// real certificate is configured by path and then verified by terminals
// the ordinary way.
//
// The server speaks TLS 1.2 with ECDHE and AEAD suites only (AES-GCM,
// ChaCha20-Poly1305), or TLS 1.3 only when TLS13Only is set.

// TLSOptions say where the platform's certificate comes from.
type TLSOptions struct {
	// CertFile and KeyFile name a PEM certificate (chain) and its key. When
	// both are empty, the self-signed certificate in Dir is used, and made
	// when missing.
	CertFile, KeyFile string
	// Dir is the platform's data directory; the generated certificate is
	// Dir/tls/cert.pem and its key Dir/tls/key.pem (mode 0600).
	Dir string
	// Hosts are the DNS names and IP addresses put in a generated
	// certificate, for clients that verify names rather than pin; default
	// localhost, 127.0.0.1, ::1 and this machine's host name.
	Hosts []string
	// TLS13Only refuses TLS 1.2: for halls whose terminals all speak 1.3.
	TLS13Only bool
}

// tls12Suites are the only TLS 1.2 cipher suites offered: forward secret
// (ECDHE) and authenticated encryption (AEAD). TLS 1.3 suites are not
// configurable and all AEAD.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSInfo tells what LoadTLS loaded, for the operator's log.
type TLSInfo struct {
	CertFile    string // the file terminals pin (for a generated certificate)
	Generated   bool   // made on this start
	SelfSigned  bool
	Fingerprint string // lowercase hex SHA-256 of the leaf certificate (DER)
	NotAfter    time.Time
	// Note is a warning for the operator, "" when there is none: set when
	// the certificate is a CA certificate (CA:TRUE), as older versions
	// made. It is kept, since terminals pin it byte for byte, and the note
	// says how to replace it with a leaf.
	Note string
}

// LoadTLS returns the server TLS configuration: from CertFile and KeyFile
// when given, else from the self-signed certificate in Dir, which it makes
// (ECDSA P-256, ten years) on the first start.
func LoadTLS(o TLSOptions) (*tls.Config, TLSInfo, error) {
	var info TLSInfo
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, info, fmt.Errorf("tls: certificate %q and key %q must be given together", o.CertFile, o.KeyFile)
	}
	if o.CertFile == "" {
		if o.Dir == "" {
			return nil, info, errors.New("tls: no certificate configured and no data directory to keep a generated one in")
		}
		dir := filepath.Join(o.Dir, "tls")
		o.CertFile, o.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		made, err := ensureSelfSigned(dir, o.CertFile, o.KeyFile, o.Hosts)
		if err != nil {
			return nil, info, err
		}
		info.Generated = made
	}
	cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, info, fmt.Errorf("tls: load certificate %s with key %s: %w", o.CertFile, o.KeyFile, err)
	}
	leaf := cert.Leaf
	sum := sha256.Sum256(leaf.Raw)
	info.CertFile, info.Fingerprint, info.NotAfter = o.CertFile, hex.EncodeToString(sum[:]), leaf.NotAfter
	// Not CheckSignatureFrom(leaf): it wants the parent to be a CA.
	info.SelfSigned = bytes.Equal(leaf.RawIssuer, leaf.RawSubject) &&
		leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil
	if time.Now().After(leaf.NotAfter) {
		return nil, info, fmt.Errorf("tls: certificate %s expired on %s", o.CertFile, leaf.NotAfter.Format(time.DateOnly))
	}
	if leaf.IsCA && info.SelfSigned {
		// Replacing it here would cut off every terminal that pins it.
		info.Note = fmt.Sprintf("certificate %s is a CA certificate (CA:TRUE, made by an older version); "+
			"it is kept because terminals pin it, but a leaf is safer: to make one, stop the platform, "+
			"move %s and its key %s away, start it again (a leaf is made) and give every terminal the new %s",
			o.CertFile, o.CertFile, o.KeyFile, filepath.Base(o.CertFile))
	}
	return serverTLSConfig(cert, o.TLS13Only), info, nil
}

// serverTLSConfig is the platform's TLS configuration for cert.
func serverTLSConfig(cert tls.Certificate, tls13Only bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, CipherSuites: tls12Suites}
	if tls13Only {
		cfg.MinVersion, cfg.CipherSuites = tls.VersionTLS13, nil
	}
	return cfg
}

// ensureSelfSigned makes the key and certificate unless both exist, and
// reports whether it made them. One without the other is an error: a
// certificate terminals pinned must not be replaced silently.
func ensureSelfSigned(dir, certFile, keyFile string, hosts []string) (bool, error) {
	_, cerr := os.Stat(certFile)
	_, kerr := os.Stat(keyFile)
	switch {
	case cerr == nil && kerr == nil:
		return false, nil
	case cerr == nil || kerr == nil:
		return false, fmt.Errorf("tls: only one of %s and %s exists; restore the other, or remove both to make a new certificate (and give terminals the new one)", certFile, keyFile)
	case !errors.Is(cerr, fs.ErrNotExist) || !errors.Is(kerr, fs.ErrNotExist):
		return false, fmt.Errorf("tls: %w", errors.Join(cerr, kerr))
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
		if h, err := os.Hostname(); err == nil && h != "" {
			hosts = append(hosts, h)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, fmt.Errorf("tls: make key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return false, fmt.Errorf("tls: make serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "yici-platform", Organization: []string{"Yici"}},
		NotBefore:    now.Add(-time.Hour), // a terminal's clock may be a little behind
		NotAfter:     now.AddDate(10, 0, 0),
		// A leaf for the platform's names: it is pinned, or trusted as
		// itself by clients that verify names, and signs nothing else.
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return false, fmt.Errorf("tls: make certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return false, fmt.Errorf("tls: encode key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("tls: %w", err)
	}
	// The key first: a certificate without its key is the state refused above.
	if err := writeFileSync(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return false, err
	}
	if err := writeFileSync(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		os.Remove(keyFile)
		return false, err
	}
	return true, seal.SyncDir(dir)
}

// writeFileSync writes data to path through a temporary file, fsynced and
// renamed, so path is whole or absent.
func writeFileSync(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return nil
}

// NewHTTPServer returns the http.Server the platform should run h in: TLS
// from cfg (nil for plain HTTP, e.g. behind a TLS-terminating proxy), and
// limits on what comes before a request reaches h: the TLS handshake and
// the header within 10 s, at most 64 KiB of header, an idle connection
// closed after 2 min. It sets no whole-request Read/WriteTimeout: those
// would cut a slow upload of a large blob; the Server sets deadlines per
// request instead (Options.ReadTimeout, WriteTimeout, UploadIdleTimeout,
// TransferTimeout).
func NewHTTPServer(h http.Handler, cfg *tls.Config) *http.Server {
	return &http.Server{Handler: h, TLSConfig: cfg,
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

// Serve serves h on ln, over TLS when cfg is not nil, until ctx ends; then
// it stops accepting, gives requests in flight up to ten seconds, and
// returns nil. It returns the error that stopped it otherwise.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, cfg *tls.Config) error {
	hs := NewHTTPServer(h, cfg)
	stopped := make(chan struct{}) // closed when Shutdown has returned
	go func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	var err error
	if cfg != nil {
		err = hs.ServeTLS(ln, "", "")
	} else {
		err = hs.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return err
}
