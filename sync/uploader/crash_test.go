package uploader

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"yici/sync/store"
	"yici/sync/wire"
)

// The child process of TestCrashSoak reads these.
const (
	envChild   = "YICI_CRASH_CHILD" // the store directory
	envURL     = "YICI_CRASH_URL"
	envToken   = "YICI_CRASH_TOKEN"
	envSession = "YICI_CRASH_SESSION"
	envRound   = "YICI_CRASH_ROUND"
)

// TestCrashSoak kills, with SIGKILL at random moments, a child process that
// captures and submits cases while its uploader sends them; then a clean
// uploader finishes the outbox, and every case the child had submitted must
// be on the platform exactly once with byte-identical materials.
// YICI_SOAK_ROUNDS sets the number of rounds (default 50, 10 with -short).
func TestCrashSoak(t *testing.T) {
	rounds := 50
	if testing.Short() {
		rounds = 10
	}
	if v := os.Getenv("YICI_SOAK_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("YICI_SOAK_ROUNDS=%q is not a positive number", v)
		}
		rounds = n
	}
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"="+dir, envURL+"="+p.url, envToken+"="+p.token, envSession+"="+p.session, envRound+"="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(280)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended before it was killed: %v", round, err)
		}
	}

	submitted := readJournal(t, filepath.Join(dir, "journal"))
	if len(submitted) < rounds {
		t.Fatalf("only %d cases submitted in %d rounds: the child hardly ran", len(submitted), rounds)
	}
	s := openStore(t, dir)
	left, _, err := s.Pending()
	if err != nil {
		t.Fatal(err)
	}
	// A thousand rounds leave thousands of cases: allow time for each.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+time.Duration(left)*50*time.Millisecond)
	defer cancel()
	if err := New(s, p.client(http.DefaultTransport), fast).Drain(ctx); err != nil {
		t.Fatalf("drain of the %d cases left: %v", left, err)
	}
	checkDelivered(t, s, p, submitted)
	// Nothing reached the platform that the store does not know as sent.
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, n := range p.casesMade {
		if st, err := s.CaseState(id); st != store.StateSent || n != 1 {
			t.Errorf("platform case %s committed %d times; in the store it is %s (%v)", id, n, st, err)
		}
	}
	t.Logf("%d rounds: %d cases journalled, %d left for the clean uploader, %d committed on the platform",
		rounds, len(submitted), left, len(p.casesMade))
}

// readJournal returns the case ids the child recorded after Submit returned.
// A line cut short by the kill is ignored: its case may or may not have
// been recorded, and either way it is checked through the platform's list.
func readJournal(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no journal: %v", err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, ok := strings.CutSuffix(sc.Text(), " submitted"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestCrashChild is the child of TestCrashSoak; it does nothing otherwise.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envChild)
	if dir == "" {
		t.Skip("the child process of TestCrashSoak")
	}
	// Should the parent die, do not live on.
	time.AfterFunc(20*time.Second, func() { os.Exit(3) })
	s, err := store.OpenWithKeyFile(filepath.Join(dir, "store.db"), filepath.Join(dir, "store.key"))
	if err != nil {
		t.Fatal(err)
	}
	journal, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	opt := fast
	opt.PollInterval = 20 * time.Millisecond
	u := New(s, &Client{BaseURL: os.Getenv(envURL), Token: os.Getenv(envToken), Session: os.Getenv(envSession)}, opt)
	go u.Run(context.Background())
	round := os.Getenv(envRound)
	for i := 0; ; i++ {
		id := fmt.Sprintf("desk-07-r%s-c%d", round, i)
		err := s.SaveCase(wire.Manifest{ID: id, CatalogRevision: 1, Items: []string{"370100-001"},
			Applicant: wire.Applicant{Name: "王五", IDNumber: "210203197505056781"}})
		if err != nil {
			t.Fatal(err)
		}
		seeds := map[string]int{id + "-a": 10<<10 + i, id + "-b": 60 << 10}
		if i%3 == 0 {
			seeds["stamp"] = 2000 // the same bytes in many cases
		}
		for seed, size := range seeds {
			if _, err := s.Capture(id, wire.MaterialRef{Code: seed}, content(seed, size)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Submit(id); err != nil {
			t.Fatal(err)
		}
		u.Kick()
		if _, err := fmt.Fprintf(journal, "%s submitted\n", id); err != nil {
			t.Fatal(err)
		}
	}
}
