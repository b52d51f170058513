package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// childEnv names the database a re-executed test binary ingests into until it is killed.
const childEnv = "SWITCHBOARD_SQLITE_DURABILITY_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(ingestForever(path))
	}
	os.Exit(m.Run())
}

// ingestForever is the child process: several goroutines ingest calls and print the id of each one
// acknowledged (Ingest returned nil), one per line, until the parent kills the process.
func ingestForever(path string) int {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	raw := make([]byte, 2048)
	for i := range raw {
		raw[i] = 'x'
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := int64(1); ; i++ {
				id := int64(w+1)*1_000_000_000 + i
				c := &store.Call{ID: id, ReceivedAt: time.Now(), Status: "completed", Matched: []string{"r"}, Raw: raw}
				if _, err := s.Ingest(context.Background(), c, []store.NewDelivery{{Rule: "r", Sink: "a", Message: []byte(`{}`)}}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return
				}
				mu.Lock()
				fmt.Fprintln(out, id)
				err := out.Flush() // the parent must see every acknowledgement before the kill
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return 1
}

// TestDurableAcrossKill runs ingestForever in a child process, kills it with SIGKILL once it has
// acknowledged a few hundred calls, and checks that every acknowledged call and its delivery is in the
// database afterwards.
func TestDurableAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary; skipped in -short mode")
	}
	path := filepath.Join(t.TempDir(), "kill.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	var acked []int64
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		id, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("child printed %q, want a call id", sc.Text())
		}
		acked = append(acked, id)
		if len(acked) == 500 && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill child: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited after %d acknowledgements (%v), want it to run until killed", len(acked), err)
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	missing := 0
	for _, id := range acked {
		if _, err := s.GetCall(t.Context(), id); err != nil {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged call %d after kill: %v, want it stored", id, err)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged calls missing after kill, want 0", missing, len(acked))
	}
	var deliveries int
	if err := s.read.QueryRow(`SELECT count(*) FROM deliveries d JOIN calls c ON c.id = d.call_id`).Scan(&deliveries); err != nil {
		t.Fatal(err)
	}
	if deliveries < len(acked) {
		t.Errorf("deliveries after kill = %d, want at least %d (one per acknowledged call)", deliveries, len(acked))
	}
	t.Logf("%d calls acknowledged before and during the kill, all present", len(acked))
}
