package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// Watch registers fn and returns at once. From then until ctx is done (or the store is closed) fn is
// called with a sink's name after Ingest or Requeue in this process made deliveries of that sink
// pending, and, within Options.PollInterval, after Requeue in another process sharing the file.
// Calls to fn are serial and may be coalesced.
func (s *Store) Watch(ctx context.Context, fn func(sink string)) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	if err := s.startPoll(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.closed:
			cancel()
		}
	}()
	s.hub.Subscribe(ctx, fn)
	return nil
}

// startPoll starts the poller of wakeups from other processes, once. Its cursor is read before Watch
// returns, so that a wakeup committed afterwards is seen.
func (s *Store) startPoll(ctx context.Context) error {
	if s.opts.PollInterval < 0 {
		return nil
	}
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if s.polling {
		return nil
	}
	var last sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT max(id) FROM wakeups`).Scan(&last); err != nil {
		return s.fail("watch: read requeue wakeups", err)
	}
	s.polling = true
	go s.poll(last)
	return nil
}

// poll turns wakeups recorded by other processes after last into notifications, until Close.
func (s *Store) poll(last sql.NullInt64) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.closed
		cancel()
	}()
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rows, err := s.read.QueryContext(ctx, `SELECT id, sink FROM wakeups WHERE id > ? ORDER BY id`, last.Int64)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("read requeue wakeups", "err", err)
			}
			continue
		}
		var sinks []string
		for rows.Next() {
			var sink string
			if err := rows.Scan(&last.Int64, &sink); err != nil {
				break
			}
			sinks = append(sinks, sink)
		}
		if err := rows.Err(); err != nil && ctx.Err() == nil {
			s.log.Warn("read requeue wakeups", "err", err)
		}
		rows.Close()
		s.hub.Notify(sinks...)
	}
}
