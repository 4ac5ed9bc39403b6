package uploader

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// PinnedTransport returns an HTTP transport that trusts exactly the
// certificates in the PEM file certFile: the platform's self-signed
// certificate, copied to the terminal at enrolment (sync/platform.LoadTLS
// makes it). A server whose certificate is not byte-for-byte one of them
// is refused, whatever CA signed it and whatever name it bears; the name
// is not checked, since the pin already says who the server is and hall
// networks reach the platform by addresses the certificate may not list.
func PinnedTransport(certFile string) (*http.Transport, error) {
	raw, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("pinned certificate: %w", err)
	}
	var pins [][]byte
	for rest := raw; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return nil, fmt.Errorf("pinned certificate %s: %w", certFile, err)
		}
		pins = append(pins, b.Bytes)
	}
	if len(pins) == 0 {
		return nil, fmt.Errorf("pinned certificate %s holds no PEM CERTIFICATE", certFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per concurrent blob upload: the default of two
	// would close the others after each request, and over TLS every new
	// connection is a handshake.
	t.MaxIdleConnsPerHost = 16
	t.TLSClientConfig = &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The standard verification (CA chain and name) is replaced by the
		// pin below, which is stricter: one exact certificate.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("platform presented no certificate")
			}
			leaf := cs.PeerCertificates[0]
			for _, p := range pins {
				if bytes.Equal(leaf.Raw, p) {
					if time.Now().After(leaf.NotAfter) {
						return fmt.Errorf("platform certificate expired on %s", leaf.NotAfter.Format(time.DateOnly))
					}
					return nil
				}
			}
			sum := sha256.Sum256(leaf.Raw)
			return fmt.Errorf("platform certificate (SHA-256 %s) is not the pinned one in %s", hex.EncodeToString(sum[:]), certFile)
		},
	}
	return t, nil
}
