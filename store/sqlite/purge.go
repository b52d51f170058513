package sqlite

import (
	"context"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// purgeSteps run in order, each repeated until it deletes fewer than a batch; the last deletes calls.
// Their arguments are the cutoff and the batch size.
var purgeSteps = []struct {
	what string
	sql  string
}{
	{"purge deliveries", `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries
		WHERE state IN ('delivered', 'dead') AND updated_at < ? LIMIT ?)`},
	{"purge wakeups", `DELETE FROM wakeups WHERE id IN (SELECT id FROM wakeups WHERE at < ? LIMIT ?)`},
	{"purge calls", `DELETE FROM calls WHERE id IN (SELECT id FROM calls
		WHERE received_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.call_id = calls.id) LIMIT ?)`},
}

// Purge deletes delivered and dead deliveries last updated before cutoff (with their attempts), then
// calls received before cutoff that have no deliveries left, and returns how many calls it deleted.
// It works in transactions of Options.PurgeBatch rows so that Ingest never waits long behind it;
// if ctx ends midway, what was already deleted stays deleted.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	c := nanos(cutoff)
	batch := s.opts.PurgeBatch
	calls := 0
	for i, step := range purgeSteps {
		for {
			res, err := s.write.ExecContext(ctx, step.sql, c, batch)
			if err != nil {
				return calls, s.fail(step.what, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return calls, s.fail(step.what, err)
			}
			if i == len(purgeSteps)-1 {
				calls += int(n)
			}
			if n < int64(batch) {
				break
			}
		}
	}
	return calls, nil
}
