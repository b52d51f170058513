//go:build !crashtest

package relay

import (
	"log/slog"

	"github.com/switchboard-relay/switchboard/store"
)

// crashAfterCommit returns st: the crash tests' hook exists only in builds with -tags crashtest
// (crashtest.go).
func crashAfterCommit(st store.Store, _ *slog.Logger) (store.Store, error) { return st, nil }
