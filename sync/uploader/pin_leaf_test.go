package uploader

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"path/filepath"
	"testing"

	"yici/sync/platform"
)

// The platform's generated certificate is a leaf, not a CA; a pinned
// terminal still completes a real handshake with it, under TLS 1.2 AEAD
// suites and under TLS 1.3 only.
func TestPinnedLeafHandshake(t *testing.T) {
	dir := t.TempDir()
	st, err := platform.OpenBolt(filepath.Join(dir, "platform"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := platform.New(st, platform.Options{})
	token, _ := srv.Enrol(platform.RoleKiosk, "甘井子区政务服务中心", "kiosk-07")
	for _, tls13 := range []bool{false, true} {
		cfg, info, err := platform.LoadTLS(platform.TLSOptions{Dir: filepath.Join(dir, "platform"), TLS13Only: tls13})
		if err != nil {
			t.Fatal(err)
		}
		if leaf := cfg.Certificates[0].Leaf; leaf.IsCA || leaf.KeyUsage&x509.KeyUsageCertSign != 0 {
			t.Fatalf("the platform's certificate is a CA: IsCA %v, key usage %b", leaf.IsCA, leaf.KeyUsage)
		}
		url := serveTLS(t, srv, cfg) // until the test ends
		pinned, err := PinnedTransport(info.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		if !tls13 {
			pinned.TLSClientConfig.MaxVersion = tls.VersionTLS12
		}
		c := &Client{BaseURL: url, Token: token, HTTP: &http.Client{Transport: pinned}}
		if _, err := c.WhoAmI(t.Context()); err != nil {
			t.Errorf("TLS13Only %v: pinned client: %v", tls13, err)
		}
		pinned.CloseIdleConnections()
	}
}
