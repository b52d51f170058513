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

// Watch calls fn with a sink's name whenever deliveries for that sink become pending through Ingest
// or Requeue on any Store sharing the database and schema, until ctx is done or the Store is closed.
// It holds a connection of its own, outside the MaxConns pool, LISTENing on one channel; calls to fn
// come from one goroutine, in order, never concurrently. Notifications of one transaction are
// coalesced per sink.
//
// When the connection fails, Watch logs a warning and reconnects, backing off up to 5s; after
// reconnecting it calls fn for every sink with queued deliveries, since notifications sent while it
// was away are lost. It returns ctx.Err() when ctx is done, and store.ErrClosed after Close.
func (s *Store) Watch(ctx context.Context, fn func(sink string)) error {
	if err := s.check(); err != nil {
		return err
	}
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-watchCtx.Done():
		}
	}()
	end := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return store.ErrClosed
	}

	delay := watchRetryMin
	lost := false
	for {
		conn, err := s.listen(watchCtx)
		if err == nil {
			if lost {
				s.log.Info("store watch reconnected")
				err = s.catchUp(watchCtx, fn)
			}
			if err == nil {
				delay = watchRetryMin
				err = receive(watchCtx, conn, fn)
			}
			_ = conn.Close(context.Background())
		}
		if watchCtx.Err() != nil {
			return end()
		}
		lost = true
		s.log.Warn("store watch lost its connection; reconnecting", "err", err, "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-watchCtx.Done():
			t.Stop()
			return end()
		case <-t.C:
		}
		delay = min(2*delay, watchRetryMax)
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
