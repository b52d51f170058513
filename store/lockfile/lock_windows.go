//go:build windows

package lockfile

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// The locked byte range lies far past the end of the file (Windows allows that), so that the pid
// written at its start stays readable by the process that finds the lock taken: a locked range
// cannot be read through another handle.
const (
	lockOffsetHigh = 0x7fffffff // offset 0x7fffffff_00000000
	lockLength     = 1
)

// lock takes an exclusive LockFileEx lock on f without waiting.
func lock(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, lockLength, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errHeld
	}
	return err
}

// unlock releases the lock on f.
func unlock(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, lockLength, 0, ol)
}
