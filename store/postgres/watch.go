package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-relay/switchboard/store"
)

// watchApplicationName marks Watch's connections in pg_stat_activity.
const watchApplicationName = "switchboard-watch"

// Reconnection pacing for Watch: it doubles from the first delay up to the last.
const (
	watchRetryMin = 100 * time.Millisecond
	watchRetryMax = 5 * time.Second
)

// Watch registers fn and returns: from then until ctx is done or the Store is closed, fn is called
// with a sink's name whenever deliveries for that sink become pending through Ingest or Requeue on any
// Store sharing the database and schema. Watch LISTENs before it returns, so a change committed after
// it returned is notified. It holds a connection of its own, outside the MaxConns pool; calls to fn
// come from one goroutine, never concurrently. Notifications of one transaction are coalesced per sink.
//
// When the connection cannot be opened or fails, Watch logs a warning and reconnects in the
// background, backing off up to 5s; once connected again it calls fn for every sink with queued
// deliveries, since notifications sent while it was away are lost. Watch returns an error only when
// called after Close or with ctx already done.
func (s *Store) Watch(ctx context.Context, fn func(sink string)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return store.ErrClosed
	}
	s.watchers.Add(1)
	s.mu.Unlock()

	watchCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-watchCtx.Done():
		}
	}()
	// Connect before returning, so that what commits after Watch returns is heard.
	conn, err := s.listen(watchCtx)
	go func() {
		defer s.watchers.Done()
		defer cancel()
		s.watch(watchCtx, conn, err, fn)
	}()
	return nil
}

// watch receives notifications on conn (or, when conn is nil, reconnects after err first) until ctx is
// done, reconnecting whenever the connection fails.
func (s *Store) watch(ctx context.Context, conn *pgx.Conn, err error, fn func(sink string)) {
	delay := watchRetryMin
	for {
		if conn != nil {
			err = receive(ctx, conn, fn)
			_ = conn.Close(context.Background())
			conn = nil
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("store watch lost its connection; reconnecting", "err", err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, watchRetryMax)
		if conn, err = s.listen(ctx); err != nil {
			continue
		}
		if err = s.catchUp(ctx, fn); err != nil {
			_ = conn.Close(context.Background())
			conn = nil
			continue
		}
		s.log.Info("store watch reconnected")
		delay = watchRetryMin
	}
}

// listen opens a connection outside the pool and LISTENs on the notification channel.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig
	cfg.RuntimeParams["application_name"] = watchApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("listen for work: %w", err)
	}
	s.watchPID.Store(conn.PgConn().PID())
	return conn, nil
}

// receive calls fn for each notification until conn fails or ctx is done.
func receive(ctx context.Context, conn *pgx.Conn, fn func(sink string)) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		if n.Channel == notifyChannel && n.Payload != "" {
			fn(n.Payload)
		}
	}
}

// catchUp calls fn for every sink with queued deliveries.
func (s *Store) catchUp(ctx context.Context, fn func(sink string)) error {
	sinks, err := s.QueuedSinks(ctx)
	if err != nil {
		return err
	}
	for _, sink := range sinks {
		fn(sink)
	}
	return nil
}
