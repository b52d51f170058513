package sqlite

import (
	"context"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// RecoverInFlight makes every in-flight delivery claimable at once and returns how many there were.
//
// `switchboard serve` calls it at start: one relay process owns an SQLite file, so a delivery still in
// flight then was cut short by the previous process's crash or kill, and waiting for its lease to
// expire would only delay it. (Other processes, such as `switchboard replay`, never claim.) The
// attempt that was cut short stays counted.
func (s *Store) RecoverInFlight(ctx context.Context) (int, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	res, err := s.write.ExecContext(ctx, `UPDATE deliveries SET due_at = ? WHERE state = 'in_flight'`,
		nanos(time.Now()))
	if err != nil {
		return 0, s.fail("recover in-flight deliveries", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("recover in-flight deliveries", err)
	}
	return int(n), nil
}
