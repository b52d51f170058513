// Package lockfile holds an exclusive operating-system lock on a file for the life of a process, so
// that two processes never own one resource (an SQLite database served by `switchboard serve`). The
// lock is released by the operating system when the process ends, however it ends, so a crash
// leaves no stale lock behind. The file records the holder's pid, for the message of the process
// that finds it taken.
//
// Locks are flock(2) on Unix and LockFileEx on Windows; both belong to the open file, so two
// Acquire calls in one process also exclude each other.
package lockfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// HeldError is returned by Acquire when another open file holds the lock.
type HeldError struct {
	// Path is the lock file.
	Path string
	// PID is the holder's process id as it recorded it; 0 when unknown.
	PID int
}

// Error implements error.
func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is locked by another process", e.Path)
	}
	return fmt.Sprintf("%s is locked by another process (pid %d)", e.Path, e.PID)
}

// Lock is a held lock. Release it with Release; the operating system releases it when the process
// ends.
type Lock struct {
	f *os.File
}

// Acquire takes the exclusive lock on the file at path, creating the file if needed, without
// waiting, and writes this process's pid into it. When another holds the lock it returns a
// *HeldError naming the holder's pid.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := lock(f); err != nil {
		f.Close()
		if errors.Is(err, errHeld) {
			return nil, &HeldError{Path: path, PID: readPID(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("write pid into %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release empties the file and releases the lock. The file itself stays: removing it would let a
// process that opened it just before lock a file no longer on disk while a third creates a new one.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	terr := l.f.Truncate(0)
	uerr := unlock(l.f)
	cerr := l.f.Close()
	l.f = nil
	return errors.Join(terr, uerr, cerr)
}

// writePID replaces whatever a previous holder left in f with this process's pid.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the pid a holder recorded in path; 0 when it cannot.
func readPID(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// errHeld is what lock returns when another open file holds the lock.
var errHeld = errors.New("held by another")
