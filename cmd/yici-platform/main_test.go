package main

import (
	"crypto/ed25519"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"yici/sync/appcode"
	"yici/sync/platform"
)

// TestMain runs main when the test binary is started as the command.
func TestMain(m *testing.M) {
	if os.Getenv("YICI_PLATFORM_MAIN") == "1" {
		os.Args = append([]string{"yici-platform"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// run runs the command in dir and returns its exit code and output.
func run(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "YICI_PLATFORM_MAIN=1")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// Help and wrong calls make no data directory.
func TestUsageMakesNoDataDirectory(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"-h"}, 0},
		{[]string{"help"}, 0},
		{nil, 2},
		{[]string{"bogus"}, 2},
		{[]string{"catalog"}, 2},
		{[]string{"catalog", "list"}, 2},
		{[]string{"serve", "-h"}, 0},
		{[]string{"serve", "--no-such-flag"}, 2},
		{[]string{"catalog", "publish"}, 1},
		{[]string{"publish"}, 1},
		{[]string{"enrol", "--hall", "H"}, 1},
		{[]string{"appcode"}, 2},
		{[]string{"appcode", "list"}, 2},
		{[]string{"appcode", "issue", "--name", "张三"}, 1},
	} {
		dir := t.TempDir()
		code, out := run(t, dir, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d: %s", c.args, code, c.code, out)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%v made %s", c.args, ents[0].Name())
		}
	}
}

// catalog publish is the documented form (sync-protocol §9); enrol makes
// the certificate it tells the administrator to hand over.
func TestCatalogPublishAndEnrol(t *testing.T) {
	dir := t.TempDir()
	sample, err := filepath.Abs("../../assets/catalog/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"catalog", "publish", "--data", "d", sample}, {"publish", "--data", "d", sample}} {
		if code, out := run(t, dir, args...); code != 0 || !strings.Contains(out, "catalogue revision 2 published") {
			t.Errorf("%v: %d %s", args, code, out)
		}
	}
	code, out := run(t, dir, "enrol", "--data", "d", "--role", "kiosk", "--hall", "H", "--name", "K1")
	cert := filepath.Join("d", "tls", "cert.pem")
	if code != 0 || !strings.Contains(out, cert+" to pin") {
		t.Fatalf("enrol: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, cert)); err != nil {
		t.Errorf("enrol named %s, which does not exist: %v", cert, err)
	}
}

// runIn runs the command in dir with stdin and returns its exit code, its
// stdout and its stderr.
func runIn(t *testing.T, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "YICI_PLATFORM_MAIN=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// Enrol, clerk changes and revoke work while the platform serves, through
// its administration socket, and take effect at the next request; every
// sign-in is in the audit log, which verifies while the platform runs.
func TestLiveAdministration(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	serve := exec.Command(os.Args[0], "serve", "--data", "d", "--addr", addr, "--insecure-http")
	serve.Dir = dir
	serve.Env = append(os.Environ(), "YICI_PLATFORM_MAIN=1")
	var serveLog strings.Builder
	serve.Stderr = &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
		if t.Failed() {
			t.Log(serveLog.String())
		}
	}()
	call := func(method, path, token, session, body string) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if session != "" {
			req.Header.Set("Yici-Session", session)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "platform serving", 10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(dir, "d", "admin.sock"))
		return err == nil && call("GET", "/v1/whoami", "x", "", "") == 401
	})

	code, kioskTok, errs := runIn(t, dir, "", "enrol", "--data", "d", "--role", "kiosk", "--hall", "H", "--name", "K1")
	kioskTok = strings.TrimSpace(kioskTok)
	if code != 0 || call("GET", "/v1/whoami", kioskTok, "", "") != 200 {
		t.Fatalf("enrol while serving: %d %s", code, errs)
	}
	if code, _, errs := runIn(t, dir, "", "revoke", "--data", "d", "--name", "K1"); code != 0 {
		t.Fatalf("revoke while serving: %d %s", code, errs)
	}
	took := waitFor(t, "revoked token refused", time.Second, func() bool { return call("GET", "/v1/whoami", kioskTok, "", "") == 401 })
	t.Logf("revocation took effect after %v", took)

	_, deskTok, _ := runIn(t, dir, "", "enrol", "--data", "d", "--role", "desk", "--hall", "H", "--name", "W1")
	deskTok = strings.TrimSpace(deskTok)
	if code, _, errs := runIn(t, dir, "730461\n", "clerk", "add", "--data", "d", "--hall", "H", "--id", "0001", "--name", "王丽"); code != 0 {
		t.Fatalf("clerk add while serving: %d %s", code, errs)
	}
	if got := call("POST", "/v1/session", deskTok, "", `{"clerk":"0001","pin":"730461","window":"3"}`); got != 201 {
		t.Fatalf("sign-in of the clerk just added: %d", got)
	}
	if got := call("POST", "/v1/session", deskTok, "", `{"clerk":"0001","pin":"111111","window":"3"}`); got != 401 {
		t.Fatalf("sign-in with a wrong PIN: %d", got)
	}
	if code, _, errs := runIn(t, dir, "", "clerk", "disable", "--data", "d", "--id", "0001"); code != 0 {
		t.Fatalf("clerk disable while serving: %d %s", code, errs)
	}
	if got := call("POST", "/v1/session", deskTok, "", `{"clerk":"0001","pin":"730461","window":"3"}`); got != 401 {
		t.Fatalf("sign-in of a disabled clerk: %d", got)
	}
	// The log is flushed at most 100 ms after a record; verify sees whole
	// frames only, so poll until the three sign-ins are there.
	waitFor(t, "three sign-ins in the audit log", 5*time.Second, func() bool {
		code, out, _ := runIn(t, dir, "", "audit", "verify", "--data", "d")
		return code == 0 && strings.Contains(out, " 3 records verified")
	})
	_, out, _ := runIn(t, dir, "", "audit", "list", "--data", "d", "--clerk", "0001")
	if n := strings.Count(out, "\n"); n != 3 || !strings.Contains(out, "wrong PIN") || !strings.Contains(out, "disabled") {
		t.Errorf("audit list of clerk 0001: %d lines\n%s", n, out)
	}
}

// appcode issue prints a code the platform's key verifies, for the person
// named; it refuses a bad ID number or lifetime, and a data directory
// with no platform in it.
func TestAppCodeIssue(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runIn(t, dir, "", "appcode", "issue", "--data", "d", "--name", "张三", "--id", "21020219880504123X"); code != 1 || !strings.Contains(errs, "no platform data") {
		t.Fatalf("issue without a platform: %d %s", code, errs)
	}
	if code, _, errs := runIn(t, dir, "", "enrol", "--data", "d", "--role", "kiosk", "--hall", "H", "--name", "K1"); code != 0 {
		t.Fatalf("enrol: %d %s", code, errs)
	}
	code, out, errs := runIn(t, dir, "", "appcode", "issue", "--data", "d", "--name", "张三", "--id", "21020219880504123X", "--ttl", "2m")
	if code != 0 {
		t.Fatalf("issue: %d %s", code, errs)
	}
	st, err := platform.OpenBolt(filepath.Join(dir, "d"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := st.AppCodeKey(t.Context())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	p, err := appcode.NewVerifier(key.Public().(ed25519.PublicKey)).Verify(strings.TrimSpace(out))
	if err != nil || p.Name != "张三" || p.IDNumber != "21020219880504123X" {
		t.Fatalf("printed code %q: %+v, %v", out, p, err)
	}
	for _, args := range [][]string{
		{"--name", "张三", "--id", "21020219880504123"},
		{"--name", "张三", "--id", "21020219880504123X", "--ttl", "1h"},
		{"--id", "21020219880504123X"},
	} {
		if code, _, errs := runIn(t, dir, "", append([]string{"appcode", "issue", "--data", "d"}, args...)...); code != 1 {
			t.Errorf("issue %v: exit %d, want 1: %s", args, code, errs)
		}
	}
}
