//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || windows)

package lockfile

import (
	"fmt"
	"os"
	"runtime"
)

// lock fails: this system has no file lock that this package knows.
func lock(*os.File) error {
	return fmt.Errorf("file locks are not supported on %s", runtime.GOOS)
}

// unlock has nothing to release.
func unlock(*os.File) error { return nil }
