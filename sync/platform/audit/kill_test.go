package audit

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// A process killed (SIGKILL) while appending loses no record Append
// returned for: each was written before Append returned. What it was
// writing is at most a torn frame, which Open cuts off.
func TestSurvivesKill(t *testing.T) {
	s := testSealer(t, 7)
	if path := os.Getenv("AUDIT_KILL_CHILD"); path != "" {
		l, err := Open(path, s)
		if err != nil {
			t.Fatal(err)
		}
		// Append until killed, saying every 100 records how many
		// Append returned for; stop by itself should the parent be gone.
		for i, deadline := 1, time.Now().Add(10*time.Second); time.Now().Before(deadline); i++ {
			if err := l.Append(rec(i)); err != nil {
				t.Fatal(err)
			}
			if i%100 == 0 {
				fmt.Printf("%d\n", i)
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSurvivesKill$")
	cmd.Env = append(os.Environ(), "AUDIT_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Killed while appending, once it said 500 records were in.
	var said uint64
	lines := bufio.NewScanner(out)
	for said < 500 && lines.Scan() {
		said, _ = strconv.ParseUint(lines.Text(), 10, 64)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if said < 500 {
		t.Fatalf("child stopped after %d records: %v", said, lines.Err())
	}

	n, err := Verify(path, s)
	if err != nil || n < said {
		t.Fatalf("after kill: Verify = %d, %v; want ≥ %d", n, err, said)
	}
	l, err := Open(path, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %d records, %d torn bytes", l.Seq(), l.TornBytes())
	if err := l.Append(rec(1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if m, err := Verify(path, s); err != nil || m != l.Seq() || m < n+1 {
		t.Fatalf("after reopening: Verify = %d, %v; want %d", m, err, l.Seq())
	}
}
