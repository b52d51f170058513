// Package sqlite is Switchboard's embedded durable queue: the store.Store contract on one SQLite
// file, the default for a single node.
//
// The file runs in WAL mode with synchronous=FULL, so a commit is on disk before Ingest returns. All
// writes go through one connection (SQLite allows one writer at a time anyway) and reads use a
// separate pool that never waits for the writer. Concurrent Ingest calls are grouped into one
// transaction and one fsync (store.GroupCommitter), which is what makes thousands of durable webhooks
// per second possible on ordinary disks. Concurrent Finish calls are grouped the same way
// (store.Batcher, one relaxed transaction with a savepoint per call), and a writer gate lets the short
// Claim and Finish transactions go ahead of a waiting Ingest batch a bounded number of times, so that
// deliveries keep flowing while webhooks pour in (see finish.go and gate.go).
//
// Another process may open the same file (switchboard replay does): writes then wait on SQLite's busy
// timeout, and Watch in the serving process notices requeued work by polling (Options.PollInterval).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/switchboard-relay/switchboard/store"
)

// Options tunes a Store. Zero fields take the defaults.
type Options struct {
	// Logger receives the store's rare warnings; nil discards them.
	Logger *slog.Logger
	// BusyTimeout is how long a write waits for another process holding the database; default 10s.
	BusyTimeout time.Duration
	// ReadConns is the size of the read pool; default max(4, GOMAXPROCS).
	ReadConns int
	// MaxBatch is the most Ingest calls, and separately the most Finish calls, committed in one
	// transaction; default 256.
	MaxBatch int
	// BatchWait is how long a batch waits for more Ingest calls after the first; default 0, since calls
	// arriving during a commit already form the next batch (see store.GroupCommitOptions).
	BatchWait time.Duration
	// PurgeBatch is how many rows Purge deletes per transaction, so that it never holds the writer
	// long; default 1000.
	PurgeBatch int
	// PollInterval is how often Watch looks for deliveries requeued by another process (such as
	// switchboard replay); default 1s, negative disables polling.
	PollInterval time.Duration
	// MustExist makes Open fail, with an error wrapping fs.ErrNotExist, when the database file does not
	// exist, instead of creating it (and its directory).
	MustExist bool
}

// Store is a store.Store on one SQLite file. Its methods are safe for concurrent use.
type Store struct {
	// SinkChanger is changeSink: it gives the Store SetSinkState, SinkFailed and SinkSucceeded.
	store.SinkChanger
	opts  Options
	log   *slog.Logger
	write *sql.DB // exactly one connection: every write goes through it
	read  *sql.DB
	// prep holds the hot path's prepared statements (see stmts.go).
	prep   *prepared
	ingest *store.GroupCommitter
	// finishes groups concurrent Finish calls into one transaction (see finish.go).
	finishes *store.Batcher[finishReq]
	// gate orders Ingest batches and queue transactions on the writer (see gate.go).
	gate writerGate
	// restartBatch is how many pending deliveries each transaction of restartAhead restarts
	// (defaultRestartBatch; tests lower it).
	restartBatch int
	// restartBatches is how many transactions one restartAhead runs at most
	// (defaultRestartBatches; tests lower it).
	restartBatches int
	hub            store.Broadcaster

	pollMu    sync.Mutex
	polling   bool
	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed, unless opts.MustExist) the database at path and
// brings its schema up to date.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite store: path is empty: set storage.path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite store %q: path must not contain '?'", path)
	}
	if opts.MustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.PurgeBatch <= 0 {
		opts.PurgeBatch = 1000
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite store: create directory: %w", err)
		}
	}
	busy := fmt.Sprint(opts.BusyTimeout.Milliseconds())
	wq := url.Values{
		"_busy_timeout": {busy},
		"_foreign_keys": {"1"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_txlock":       {"immediate"},
		// Savepoint sub-journals (one per call of a batch) stay in memory, not in temp files.
		"_pragma": {"temp_store(memory)"},
	}
	write, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	ctx := context.Background()
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	if err := backfillConsole(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	rq := url.Values{
		"_busy_timeout": {busy},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
	}
	read, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(opts.ReadConns)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	prep, err := prepare(ctx, write, read)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	s := &Store{
		opts:           opts,
		log:            opts.Logger,
		write:          write,
		read:           read,
		prep:           prep,
		restartBatch:   defaultRestartBatch,
		restartBatches: defaultRestartBatches,
		closed:         make(chan struct{}),
	}
	s.SinkChanger = s.changeSink
	s.ingest = store.NewGroupCommitter(store.GroupCommitOptions{MaxBatch: opts.MaxBatch, MaxWait: opts.BatchWait}, s.commitBatch)
	s.finishes = store.NewBatcher(store.GroupCommitOptions{MaxBatch: opts.MaxBatch}, s.finishBatch)
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	var one int
	if err := s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping sqlite store: %w", err)
	}
	return nil
}

// Close commits the Ingest and Finish calls already queued, stops watchers and closes the database. Methods
// called afterwards return store.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.ingest.Close()
		s.finishes.Close()
		s.closeErr = errors.Join(s.prep.close(), s.write.Close(), s.read.Close())
	})
	return s.closeErr
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// nanos turns a time into the stored integer; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos turns a stored integer back into a UTC time; 0 is the zero time.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// fail wraps err with what failed, or reports store.ErrClosed when the store was closed meanwhile.
func (s *Store) fail(what string, err error) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	return fmt.Errorf("%s: %w", what, err)
}
