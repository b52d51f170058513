package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecondServeOnSameSQLiteFileRefused: a second `serve` on the SQLite file of a running one (a
// rolling update on a shared volume) must not start, since it would take over the first one's
// in-flight deliveries and send them again. It exits non-zero naming the file and the first one's
// pid; the first one keeps serving; `replay` still runs beside it; and once the first is killed, the
// OS has released the lock and a new serve starts.
func TestSecondServeOnSameSQLiteFileRefused(t *testing.T) {
	s := newSQLiteSetup(t)
	first := s.start(t, "first")

	// The same database, another port: without the lock this one would start and serve.
	second := s.cfg
	second.Listen = freeAddr(t)
	secondConfig := filepath.Join(t.TempDir(), "second.yaml")
	second.write(t, secondConfig)
	code, out := runServe(t, secondConfig)
	if code == 0 {
		t.Errorf("second serve: exit status 0, want non-zero\n%s", out)
	}
	want := fmt.Sprintf("storage: %s is in use by another switchboard process (pid %d)", s.cfg.SQLitePath, first.cmd.Process.Pid)
	if !strings.Contains(out, want) {
		t.Errorf("second serve printed:\n%s\nwant %q", out, want)
	}

	// The first is undisturbed: ready, and it ingests and delivers.
	first.waitReady()
	const id = 9_100_001
	requireAllAccepted(t, newPoster(91).postAll(context.Background(), []int64{id}, 1, func(int64) string { return first.base }, nil))
	s.slack.waitDelivered(deliveryDeadline, []string{slackKey(id)})
	if c, stdout, stderr := runCommand(t, "replay", "--config", s.configPath, "--dead"); c != 0 {
		t.Errorf("replay beside a running serve: exit %d, want 0\n%s%s", c, stdout, stderr)
	}

	first.kill()
	third := s.start(t, "third") // fails the test unless it becomes ready
	third.stop()
}

// runServe runs `switchboard serve --config configPath`, which is expected to exit by itself, and
// returns its exit code and combined output. It fails the test if the process is still running after
// exitDeadline.
func runServe(t *testing.T, configPath string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--config", configPath)
	cmd.Env = append(os.Environ(), "SWITCHBOARD_CONFIG=")
	out := newOutput()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(exitDeadline):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("serve on a database in use did not exit within %s; output:\n%s", exitDeadline, out.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	default:
		t.Fatalf("wait for serve: %v", err)
		return -1, ""
	}
}
