package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	code, out := run(t, dir, "enrol", "--data", "d", "--hall", "H", "--name", "K1")
	cert := filepath.Join("d", "tls", "cert.pem")
	if code != 0 || !strings.Contains(out, cert+" to pin") {
		t.Fatalf("enrol: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, cert)); err != nil {
		t.Errorf("enrol named %s, which does not exist: %v", cert, err)
	}
}
