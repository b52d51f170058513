// Package e2e tests the real switchboard binary as a process: it builds cmd/switchboard once, starts it
// on loopback with configs written per test, posts realistic Intellixent webhooks to it, and watches
// what fake Slack and CRM receivers (httptest servers in this process) are sent. The tests kill it
// with SIGKILL and SIGTERM mid-load, make its sinks fail and recover, reload its config with SIGHUP,
// and, when SWITCHBOARD_TEST_POSTGRES_DSN is set, run three replicas on one PostgreSQL schema.
//
// The binary is built without -race (the tests themselves run under -race). Environment:
//
//   - SWITCHBOARD_E2E_BINARY: a prebuilt binary to test instead of building one;
//   - SWITCHBOARD_E2E_SEED: the seed of the random kill moments, to repeat a run (each test logs its seed);
//   - SWITCHBOARD_E2E_LOGDIR: a directory where a failed test writes the full output of its relays
//     (otherwise the last lines are logged);
//   - SWITCHBOARD_TEST_POSTGRES_DSN: a PostgreSQL server for the replica test, which is skipped without it.
//
// The crash-between-commit-and-hand-off tests build a second binary with -tags crashtest (always from
// source), whose SWITCHBOARD_TEST_CRASH_AFTER_COMMIT hook kills it right after an ingest commit
// (relay/crashtest.go).
//
// Every relay runs with short settings so the package stays fast: retry backoff 50ms-500ms,
// storage.lease 3s, sink timeouts 2s, defaults.concurrency 4. Waits are on signals (a fake receiver
// wakes waiters on every request, the process output on every write) or polls of /readyz, /metrics
// and the admin API, each with a deadline far above need; no test asserts a speed.
//
// Duplicate deliveries after a SIGKILL are asserted to be at most defaults.concurrency per sink: a
// delivery is sent twice only when the kill lands between the receiver getting it and its outcome
// being committed, and a process holds at most that many claimed deliveries per sink.
//
// Run: go test -race -count=1 ./e2e/
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// binary is the switchboard executable under test, set by TestMain.
var binary string

// buildDir holds the binaries the tests build; removed when they end.
var buildDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the binary (unless SWITCHBOARD_E2E_BINARY names one), runs the tests and removes the
// build directory.
func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: create build directory: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	buildDir = dir
	if p := os.Getenv("SWITCHBOARD_E2E_BINARY"); p != "" {
		binary = p
		return m.Run()
	}
	binary = filepath.Join(dir, "switchboard")
	if err := build(binary); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	return m.Run()
}

// The binary built with -tags crashtest, on first use by crashtestBinary.
var (
	crashtestOnce  sync.Once
	crashtestPath  string
	crashtestBuild error
)

// crashtestBinary returns a switchboard binary built with -tags crashtest (relay/crashtest.go).
func crashtestBinary(t *testing.T) string {
	t.Helper()
	crashtestOnce.Do(func() {
		crashtestPath = filepath.Join(buildDir, "switchboard-crashtest")
		crashtestBuild = build(crashtestPath, "-tags", "crashtest")
	})
	if crashtestBuild != nil {
		t.Fatalf("e2e: %v", crashtestBuild)
	}
	return crashtestPath
}

// build compiles cmd/switchboard into out with the go build flags given, from the module root that
// `go env GOMOD` names.
func build(out string, flags ...string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("find the module root with go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return fmt.Errorf("find the module root: go env GOMOD names no go.mod: run the tests inside the module")
	}
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, flags...), "./cmd/switchboard")...)
	cmd.Dir = filepath.Dir(mod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build ./cmd/switchboard: %w\n%s", err, b)
	}
	return nil
}
