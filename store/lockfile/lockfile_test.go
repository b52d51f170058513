package lockfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAcquire: the lock excludes a second holder, which learns the first one's pid; released, it can
// be taken again; a pid left by a holder that is gone is replaced.
func TestAcquire(t *testing.T) {
	tests := []struct {
		name string
		// before is the file's content before the first Acquire; "" means no file.
		before string
	}{
		{name: "no file yet"},
		{name: "file left by a crashed holder", before: "999999\n"},
		{name: "file with garbage", before: "not a pid"},
	}
	pid := os.Getpid()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db.lock")
			if tt.before != "" {
				if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			first, err := Acquire(path)
			if err != nil {
				t.Fatalf("first Acquire: %v", err)
			}
			if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
				t.Errorf("lock file holds %q, want this process's pid %d", b, pid)
			}

			second, err := Acquire(path)
			var held *HeldError
			if !errors.As(err, &held) {
				second.Release()
				t.Fatalf("second Acquire: err = %v, want a *HeldError", err)
			}
			if held.PID != pid || held.Path != path {
				t.Errorf("HeldError = %+v, want pid %d and path %s", held, pid, path)
			}
			if !strings.Contains(err.Error(), "(pid "+strconv.Itoa(pid)+")") {
				t.Errorf("error %q does not name the holder's pid", err)
			}

			if err := first.Release(); err != nil {
				t.Fatalf("Release: %v", err)
			}
			if b, _ := os.ReadFile(path); len(b) != 0 {
				t.Errorf("lock file holds %q after Release, want it empty", b)
			}
			third, err := Acquire(path)
			if err != nil {
				t.Fatalf("Acquire after Release: %v", err)
			}
			if err := third.Release(); err != nil {
				t.Fatalf("Release: %v", err)
			}
		})
	}
}

// TestHeldErrorWithoutPID: a holder that has not written its pid yet is reported without one.
func TestHeldErrorWithoutPID(t *testing.T) {
	err := &HeldError{Path: "/data/x.db.lock"}
	if got, want := err.Error(), "/data/x.db.lock is locked by another process"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestAcquireReportsOpenErrors: a lock file that cannot be created is an error, not a HeldError.
func TestAcquireReportsOpenErrors(t *testing.T) {
	_, err := Acquire(filepath.Join(t.TempDir(), "missing-dir", "db.lock"))
	var held *HeldError
	if err == nil || errors.As(err, &held) {
		t.Fatalf("Acquire in a missing directory: err = %v, want an open error", err)
	}
}
