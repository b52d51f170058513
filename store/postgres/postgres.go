// Package postgres is the PostgreSQL implementation of store.Store, for running several Switchboard
// replicas against one database.
//
// Everything that must be global is in the database: duplicate suppression (the calls primary key),
// leases (claims use FOR UPDATE SKIP LOCKED, so two replicas never send the same delivery at once, and
// a replica that dies leaves leases that expire and are claimed by another), dead letters and replay.
// Watch uses LISTEN/NOTIFY, so an ingest on one replica wakes the workers of every replica.
//
// Clock: Claim, Requeue and Purge use the time their caller passes, Ingest the call's ReceivedAt, and
// Finish (for UpdatedAt) the replica's clock, never the database's, so tests can drive time. With
// several replicas, their clocks must therefore agree to well within the shortest lease (NTP does
// this); a replica whose clock runs ahead by more than a lease may reclaim deliveries that are still
// being sent.
//
// Times are stored as timestamptz, which keeps microseconds: times read back are truncated to the
// microsecond and are in UTC.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-relay/switchboard/store"
)

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Logger receives warnings (a Watch connection lost and re-established). Nil discards them.
	Logger *slog.Logger
	// MaxConns is the most connections this Store opens, besides one per running Watch. Zero takes
	// the default of 10. Size it so that replicas × (MaxConns + watchers) stays below the server's
	// max_connections.
	MaxConns int32
}

// defaultMaxConns is the pool size when Options.MaxConns is zero: enough for the group committer,
// a worker per sink claiming and finishing, and the admin API.
const defaultMaxConns = 10

// Store is a store.Store in PostgreSQL. All methods are safe for concurrent use, by any number of
// Stores in any number of processes sharing one database and schema.
type Store struct {
	// SinkChanger is changeSink: it gives the Store SetSinkState, SinkFailed and SinkSucceeded.
	store.SinkChanger
	pool   *pgxpool.Pool
	log    *slog.Logger
	ingest *store.GroupCommitter
	// finishes groups concurrent Finish calls into one transaction (see finish.go).
	finishes *store.Batcher[finishReq]
	// closed is set by Close; methods then return store.ErrClosed.
	closed atomic.Bool
	// done is closed by Close, ending watchers.
	done chan struct{}
	// mu orders Watch registering a watcher against Close waiting for them.
	mu       sync.Mutex
	watchers sync.WaitGroup
	// watchPID is the server process of the latest Watch connection, for tests.
	watchPID atomic.Uint32
	// restartBatch is how many pending deliveries each transaction of restartAhead restarts
	// (defaultRestartBatch; tests lower it).
	restartBatch int
	// restartBatches is how many transactions one restartAhead runs at most
	// (defaultRestartBatches; tests lower it).
	restartBatches int
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn, creates or upgrades the schema, and returns a Store. The dsn
// is a libpq URL or key=value string; its search_path parameter selects the schema, which must exist.
// Open fails when the database cannot be reached before ctx is done.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password from its own message.
		return nil, fmt.Errorf("parse storage.dsn: %w", err)
	}
	// Statements are parsed once per connection: pgx's default query mode, QueryExecModeCacheStatement,
	// prepares each distinct SQL text on first use and keeps it in a per-connection cache of 512
	// (pgx v5 defaults; a DSN's default_query_exec_mode or statement_cache_capacity changes them).
	// Claim, Finish and Ingest thus run as Bind/Execute of prepared statements, without the
	// re-parsing that modernc.org/sqlite needs prepared statements to avoid (see docs/benchmarks.md).
	switch {
	case opts.MaxConns < 0:
		return nil, fmt.Errorf("open postgres store: max connections is %d: use a positive number, or 0 for the default", opts.MaxConns)
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	default:
		cfg.MaxConns = defaultMaxConns
	}
	// Queue bookkeeping (claims, attempts, outcomes) commits without waiting for the WAL flush: a
	// server crash can lose only the last few of them, which makes a delivery be sent again or count
	// an attempt less, as at-least-once delivery allows. Ingest sets synchronous_commit=on for its own
	// transactions, and its flush makes every earlier commit durable too. A DSN that sets
	// synchronous_commit itself keeps its value.
	if _, set := cfg.ConnConfig.RuntimeParams["synchronous_commit"]; !set {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w: check storage.dsn and that the server is up", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := backfillConsole(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, log: log, done: make(chan struct{}), restartBatch: defaultRestartBatch,
		restartBatches: defaultRestartBatches}
	s.SinkChanger = s.changeSink
	s.ingest = store.NewGroupCommitter(ingestOptions, s.commitBatch)
	s.finishes = store.NewBatcher(store.GroupCommitOptions{MaxBatch: maxFinishBatch}, s.finishBatch)
	return s, nil
}

// Ping reports whether the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close commits the Ingest and Finish calls already queued, stops the watchers started by Watch and waits for
// them, and closes the connections. Methods called after Close return store.ErrClosed; Close again
// returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	already := s.closed.Swap(true)
	s.mu.Unlock()
	if already {
		return nil
	}
	s.ingest.Close()
	s.finishes.Close()
	close(s.done)
	s.watchers.Wait()
	s.pool.Close()
	return nil
}

// check returns store.ErrClosed after Close.
func (s *Store) check() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// notifyChannel is the LISTEN/NOTIFY channel; the payload is a sink's name.
const notifyChannel = "switchboard_work"

// nullTime converts a zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// utc returns t in UTC, or the zero time for NULL.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// isNoRows reports whether err means a query found no row.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
