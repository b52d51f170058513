//go:build crashtest

package relay

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/switchboard-relay/switchboard/store"
)

// crashAfterCommitEnv names the crash tests' hook (e2e): in a binary built with -tags crashtest, when
// it is set to a number N, the process kills itself (SIGKILL) right after the Nth ingest commit that
// stored a delivery leased for hand-off, before the hand-off: the moment a crash leaves a delivery
// committed, in flight and owned by no running worker. Builds without the tag ignore it.
const crashAfterCommitEnv = "SWITCHBOARD_TEST_CRASH_AFTER_COMMIT"

// crashAfterCommit wraps st with the hook of crashAfterCommitEnv when it is set.
func crashAfterCommit(st store.Store, log *slog.Logger) (store.Store, error) {
	v, ok := os.LookupEnv(crashAfterCommitEnv)
	if !ok {
		return st, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%s=%q: want a positive number of commits", crashAfterCommitEnv, v)
	}
	log.Warn("crash test build: the process kills itself after a commit with a leased delivery", "env", crashAfterCommitEnv, "commit", n)
	c := &crashingStore{Store: st, log: log}
	c.left.Store(int64(n))
	return c, nil
}

// crashingStore kills the process after the last of its counted commits.
type crashingStore struct {
	store.Store
	log  *slog.Logger
	left atomic.Int64
}

// Ingest stores as the wrapped store does, then kills the process if this was the commit to crash
// after.
func (c *crashingStore) Ingest(ctx context.Context, call *store.Call, ds []store.NewDelivery) ([]int64, error) {
	ids, err := c.Store.Ingest(ctx, call, ds)
	if err != nil || !leasesAny(ds) || c.left.Add(-1) != 0 {
		return ids, err
	}
	var leased []int64
	for i := range ds {
		if ds[i].Leased() {
			leased = append(leased, ids[i])
		}
	}
	c.log.Warn("crash test: killing the process after the commit, before the hand-off", "call_id", call.ID, "leased", leased)
	p, perr := os.FindProcess(os.Getpid())
	if perr == nil {
		perr = p.Kill()
	}
	if perr != nil {
		c.log.Error("crash test: kill failed; exiting at once instead", "err", perr)
		os.Exit(137)
	}
	select {} // until the signal lands: nothing more may happen
}

func leasesAny(ds []store.NewDelivery) bool {
	for i := range ds {
		if ds[i].Leased() {
			return true
		}
	}
	return false
}
