package catalogcli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"yici/assets"
	"yici/sync/catalog/search"
)

func run(args ...string) (code int, out, errOut string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.json", assets.SampleCatalog)
	// Break the sample in two places, far apart, to see each located.
	broken := bytes.Replace(assets.SampleCatalog, []byte(`"M-PHOTO-2"`), []byte(`"PHOTO-2"`), 1)
	broken = bytes.Replace(broken, []byte(`"next": "Q-VAC"`), []byte(`"next": "Q-VAX"`), 1)
	bad := write(t, filepath.Join(dir), "bad.json", broken)
	syntax := write(t, dir, "syntax.txt", []byte("{\n  \"revision\": 1,\n  \"items\": [,]\n}"))
	lineOf := func(data []byte, s string) int {
		return bytes.Count(data[:bytes.Index(data, []byte(s))], []byte{'\n'}) + 1
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // substrings of stdout
	}{
		{"good file", []string{"check", good}, 0, []string{good + ": ok: revision 2, 74 items, 12 bundles, 15 themes"}},
		{"bad file", []string{"check", bad}, 1, []string{
			bad + ":" + strconv.Itoa(lineOf(broken, `"PHOTO-2"`)) + `: materials M-PHOTO criterion PHOTO-2: id does not start with the material code "M-PHOTO-"`,
			bad + ":" + strconv.Itoa(lineOf(broken, `"Q-VAX"`)) + `: bundle B-BIRTH question Q-SSC choice yes: next "Q-VAX" is not a question of this tree`,
			bad + ": ",
		}},
		{"syntax error", []string{"check", syntax}, 1, []string{"decode at line 3 column 14"}},
		{"directory", []string{"check", dir}, 1, []string{good + ": ok", bad + ":"}},
		{"no such file", []string{"check", filepath.Join(dir, "none.json")}, 2, nil},
		{"nothing to check", []string{"check"}, 2, nil},
		{"empty directory", []string{"check", t.TempDir()}, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := run(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestSearch(t *testing.T) {
	code, out, _ := run("search", "jhdj")
	if code != 0 || !strings.HasPrefix(out, "1. MZ-0301  结婚登记 (item)\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = run("search", "--json", "-n", "2", "换", "身份证")
	var hits []search.Hit
	if err := json.Unmarshal([]byte(out), &hits); code != 0 || err != nil || len(hits) == 0 || len(hits) > 2 || hits[0].Code != "GA-0101" {
		t.Errorf("exit %d, %v: %s", code, err, out)
	}
	code, out, _ = run("search", "--json", "qqqqqqq")
	if code != 1 || strings.TrimSpace(out) != "[]" {
		t.Errorf("no hits: exit %d, %q", code, out)
	}
	dir := t.TempDir()
	other := write(t, dir, "c.json", []byte(`{"revision":1,"items":[{"code":"X-1","name":"测试事项","type":"公共服务","body":"某局","materials":[]}]}`))
	if code, out, _ = run("search", "--catalog", other, "ceshi"); code != 0 || !strings.Contains(out, "X-1") {
		t.Errorf("--catalog: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"search"}, {"search", "-n", "0", "x"}, {"search", "--bogus", "x"}, {"search", "--catalog", filepath.Join(dir, "none"), "x"}} {
		if code, _, _ := run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestGuide(t *testing.T) {
	code, out, _ := run("guide", "GA-0101", "lost")
	if code != 0 || !strings.Contains(out, "GA-0102 居民身份证补领") || !strings.Contains(out, "next question Q-WHY") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = run("guide", "B-BIRTH", "yes", "no")
	if code != 0 || strings.Count(out, "material M-BIRTH-CERT ") != 1 || !strings.Contains(out, "for GA-0103, YB-0605, WJ-0803") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = run("guide", "--json", "GA-0105")
	var g struct{ Code string }
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || g.Code != "GA-0105" {
		t.Errorf("--json: exit %d, %s", code, out)
	}
	if code, _, errOut := run("guide", "GA-0101", "maybe"); code != 1 || !strings.Contains(errOut, `no choice "maybe"`) {
		t.Errorf("bad answer: exit %d, %s", code, errOut)
	}
	if code, _, _ := run("guide"); code != 2 {
		t.Errorf("no code: exit %d", code)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{{nil, 2}, {[]string{"frobnicate"}, 2}, {[]string{"help"}, 0}} {
		if code, _, _ := run(tc.args...); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.code)
		}
	}
}
