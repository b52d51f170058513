package router

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-relay/switchboard/store"
)

// DefaultProbeInterval is how often Readiness probes the store with a small write.
const DefaultProbeInterval = 5 * time.Second

// Readiness tracks whether the store can commit, for GET /readyz. A commit that fails for a storage
// reason (a webhook's Ingest, a delivery's Finish; see Watch) marks the relay not ready at
// once; a write probe every interval finds out by itself when the store can commit again (and when it
// cannot, with no traffic at all), so an instance taken out of a load balancer comes back without
// traffic. It is safe for concurrent use.
type Readiness struct {
	probe    func(context.Context) error
	interval time.Duration
	log      *slog.Logger

	mu  sync.Mutex
	err error // why the store cannot commit; nil while it can
}

// NewReadiness returns a Readiness that probes with probe (store.Store.Probe) every interval
// (DefaultProbeInterval when zero). It starts ready: the store was just opened.
func NewReadiness(probe func(context.Context) error, interval time.Duration, log *slog.Logger) *Readiness {
	if interval <= 0 {
		interval = DefaultProbeInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Readiness{probe: probe, interval: interval, log: log}
}

// Err returns why the store cannot commit, or nil when the last commit or probe succeeded.
func (r *Readiness) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Fail records that a commit failed with err, when err is a storage failure (see StorageFailure):
// the relay is not ready until a probe succeeds.
func (r *Readiness) Fail(err error) {
	if !StorageFailure(err) {
		return
	}
	r.mu.Lock()
	was := r.err
	r.err = err
	r.mu.Unlock()
	if was == nil {
		r.log.Error("storage cannot commit: /readyz answers 503 until a write succeeds", "err", err)
	}
}

// Run probes the store every interval until ctx is done.
func (r *Readiness) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, r.interval)
		err := r.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return // shutting down: the probe's failure says nothing about the store
		}
		if err != nil {
			r.Fail(err)
			continue
		}
		r.mu.Lock()
		was := r.err
		r.err = nil
		r.mu.Unlock()
		if was != nil {
			r.log.Info("storage commits again: ready")
		}
	}
}

// StorageFailure reports whether err, returned by a store write, means the store could not commit.
// Answers about the data (a duplicate, a lost lease, a missing row), cancellation and a closed store
// (shutdown) are not.
func StorageFailure(err error) bool {
	return err != nil && !errors.Is(err, store.ErrDuplicate) && !errors.Is(err, store.ErrLeaseLost) &&
		!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrClosed) && !errors.Is(err, context.Canceled)
}

// Watch returns st with its commits (Ingest, Finish) reported to r: a storage failure marks
// the relay not ready. Give the result to everything that writes (the router, the dispatcher).
func (r *Readiness) Watch(st store.Store) store.Store { return &watchedStore{Store: st, r: r} }

type watchedStore struct {
	store.Store
	r *Readiness
}

func (w *watchedStore) Ingest(ctx context.Context, c *store.Call, ds []store.NewDelivery) ([]int64, error) {
	ids, err := w.Store.Ingest(ctx, c, ds)
	w.r.Fail(err)
	return ids, err
}

func (w *watchedStore) Finish(ctx context.Context, id int64, owner string, o store.Outcome) error {
	err := w.Store.Finish(ctx, id, owner, o)
	w.r.Fail(err)
	return err
}
