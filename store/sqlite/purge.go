package sqlite

import (
	"context"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// purgeSteps run in order, each repeated until it deletes fewer than a batch; calls go last, once
// their deliveries are gone. Their arguments are a cutoff and the batch size; count says which
// field of store.Purged the deleted rows add to (nil: not counted). The deliveries' state IN (…)
// repeats the predicate of the partial index deliveries_finished, so that SQLite reads it.
var purgeSteps = []struct {
	what   string
	sql    string
	cutoff func(store.Retention) time.Time
	count  func(*store.Purged) *int
}{
	{"purge delivered deliveries", `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries
		WHERE state IN ('delivered', 'dead') AND state = 'delivered' AND updated_at < ? LIMIT ?)`,
		func(r store.Retention) time.Time { return r.Finished }, func(p *store.Purged) *int { return &p.Deliveries }},
	{"purge dead deliveries", `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries
		WHERE state IN ('delivered', 'dead') AND state = 'dead' AND updated_at < ? LIMIT ?)`,
		func(r store.Retention) time.Time { return r.Dead }, func(p *store.Purged) *int { return &p.Dead }},
	{"purge wakeups", `DELETE FROM wakeups WHERE id IN (SELECT id FROM wakeups WHERE at < ? LIMIT ?)`,
		func(r store.Retention) time.Time { return r.Finished }, nil},
	{"purge calls", `DELETE FROM calls WHERE id IN (SELECT id FROM calls
		WHERE received_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.call_id = calls.id) LIMIT ?)`,
		func(r store.Retention) time.Time { return r.Finished }, func(p *store.Purged) *int { return &p.Calls }},
}

// Purge deletes delivered deliveries last updated before r.Finished and dead ones last updated
// before r.Dead (with their attempts), then calls received before r.Finished that have no deliveries
// left, and returns how many of each it deleted; a zero cutoff deletes nothing of its kind. It works
// in transactions of Options.PurgeBatch rows so that Ingest never waits long behind it; if ctx ends
// midway, what was already deleted stays deleted (and is counted).
func (s *Store) Purge(ctx context.Context, r store.Retention) (store.Purged, error) {
	var p store.Purged
	if s.isClosed() {
		return p, store.ErrClosed
	}
	batch := s.opts.PurgeBatch
	for _, step := range purgeSteps {
		cutoff := step.cutoff(r)
		if cutoff.IsZero() {
			continue
		}
		for {
			res, err := s.write.ExecContext(ctx, step.sql, nanos(cutoff), batch)
			if err != nil {
				return p, s.fail(step.what, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return p, s.fail(step.what, err)
			}
			if step.count != nil {
				*step.count(&p) += int(n)
			}
			if n < int64(batch) {
				break
			}
		}
	}
	return p, nil
}
