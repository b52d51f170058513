package dispatch

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-relay/switchboard/store"
)

// Hand-off: a delivery that this process stores and that its sink's worker can start at once goes to
// the worker in memory instead of through the queue. Before the delivery is stored, Reserve takes what
// its send needs (a worker slot and, for a rate-limited sink, a rate-limit token available now) and a
// lease; the delivery is stored already leased (store.NewDelivery.LeaseOwner) in the ingest
// transaction, so no claim transaction is spent on it; after the commit, Hand starts the send. Work
// that cannot start at once (no free slot, no token, the sink paused or held here or, as the ingest
// transaction sees it, in the store) is stored pending as before and claimed by the worker, so
// nothing waits in memory holding a lease; a slot freed while the worker waits for one goes to the
// worker, so queued work goes before fresh work. If the process dies between the commit and the
// send's outcome, the delivery is claimable again when its lease expires (at once after a restart on
// SQLite: RecoverInFlight).

// Reservation is what one fresh delivery's send needs, taken before the delivery is stored: a slot of
// its sink's worker (counted in flight, so the worker never exceeds its concurrency), a rate-limit
// token when the sink has a rate limit, and a lease. Give the delivery the lease with Lease, store
// it, then call Hand with what was stored, or Cancel if it was not stored. Exactly one of Hand and
// Cancel must be called, soon: the worker's shutdown waits for it.
type Reservation struct {
	w       *worker
	token   *rate.Reservation // nil for a sink without a rate limit
	ctx     context.Context   // the worker's sends run under it
	owner   string
	expires time.Time
	used    atomic.Bool // Hand or Cancel was called
}

// Reserve takes a worker slot, a rate-limit token and a lease for one fresh delivery to sink, and
// reports false (taking nothing) when its send could not start at once: the sink is not configured
// here, its state is not known yet or not active, the dispatcher is not running, no slot is free (a
// slot freed while the worker waits for one to claim queued work goes to the worker: see finished),
// or no token is available now.
func (d *Dispatcher) Reserve(sink string) (*Reservation, bool) {
	w := d.worker(sink)
	if w == nil {
		return nil, false
	}
	return w.reserve()
}

func (w *worker) reserve() (*Reservation, bool) {
	if s, known := w.sinkState.Load().(store.SinkState); !known || s != store.SinkActive {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sendCtx == nil || w.taken(w.target.Conf.Delivery.Concurrency, 1) == 0 {
		return nil, false
	}
	var token *rate.Reservation
	if w.limiter != nil {
		now := time.Now()
		token = w.limiter.ReserveN(now, 1)
		if !token.OK() || token.DelayFrom(now) > 0 {
			token.CancelAt(now)
			w.inflight.Add(-1)
			return nil, false
		}
	}
	w.sends.Add(1) // while accepting (sendCtx set): before run's final Wait
	return &Reservation{
		w: w, token: token, ctx: w.sendCtx,
		owner:   w.d.leaseOwner(),
		expires: w.d.opts.Now().Add(w.d.opts.Lease),
	}, true
}

// Lease gives nd the reservation's lease, so that the store creates it already claimed.
func (r *Reservation) Lease(nd *store.NewDelivery) {
	nd.LeaseOwner, nd.LeaseExpires = r.owner, r.expires
}

// Hand starts the send of sd, the delivery stored with the reservation's lease (see
// store.LeasedDelivery), in the worker's goroutines, and returns at once.
func (r *Reservation) Hand(sd *store.Delivery) {
	if r.used.Swap(true) {
		return
	}
	w := r.w
	go func() {
		defer w.sends.Done()
		w.finished(w.deliver(r.ctx, sd, r.owner, false))
	}()
}

// Cancel gives the slot and the token back: the delivery was not stored (the ingest failed, or the
// call was a duplicate).
func (r *Reservation) Cancel() {
	if r.used.Swap(true) {
		return
	}
	if r.token != nil {
		r.token.Cancel()
	}
	r.w.finished(true)
	r.w.sends.Done()
}

// leaseOwner returns a new lease owner name: each claim and each reservation leases under its own
// name, so that a Finish arriving after its lease expired and the delivery was claimed again (even
// by this process) is refused.
func (d *Dispatcher) leaseOwner() string {
	return d.opts.Owner + "/" + itoa(d.claims.Add(1))
}

// taken takes up to want of the worker's free slots (concurrency minus what is in flight or
// reserved) and returns how many it took.
func (w *worker) taken(concurrency, want int) int {
	for {
		n := w.inflight.Load()
		free := min(int64(want), int64(concurrency)-n)
		if free <= 0 {
			return 0
		}
		if w.inflight.CompareAndSwap(n, n+free) {
			return int(free)
		}
	}
}

// finished releases the slot of a send that ended (or of a cancelled reservation). When the claim
// loop waits for a slot, the slot passes to it (w.spare) and wakes it, so that queued work goes
// before fresh work that a reservation would otherwise take it for. Otherwise the slot is freed, and
// the loop is woken only when the send left its delivery due again later (a retry, or an outcome
// not recorded), to look for the next due time: a send that reached its final state, while the loop
// has found nothing more to claim, wakes nothing, as that would cost an empty claim per delivery.
func (w *worker) finished(final bool) {
	w.slotMu.Lock()
	if w.waiting {
		w.waiting = w.gathering // a gathering loop takes every slot that frees, not only one
		w.spare++
		w.slotMu.Unlock()
		w.signal()
		return
	}
	w.slotMu.Unlock()
	w.inflight.Add(-1)
	if !final {
		w.signal()
	}
}

// slots takes up to want slots for the claim loop: those passed to it by finished first, then free
// ones. When it gets none, the loop is waiting (see finished) until it takes slots again.
func (w *worker) slots(concurrency, want int) int {
	w.slotMu.Lock()
	w.waiting, w.gathering = true, false
	got := w.spare
	w.spare = 0
	w.slotMu.Unlock()
	if got > want {
		w.inflight.Add(int64(want - got))
		got = want
	}
	got += w.taken(concurrency, want-got)
	if got > 0 {
		// A slot passed on meanwhile stays spare: finished woke the loop to take it.
		w.slotMu.Lock()
		w.waiting = false
		w.slotMu.Unlock()
	}
	return got
}

// stopWaiting frees the slots passed to the claim loop and stops passing them: the loop does not
// claim while the sink is paused or held (and a held sink's probe needs every slot free).
func (w *worker) stopWaiting() {
	w.slotMu.Lock()
	n := w.spare
	w.waiting, w.gathering, w.spare = false, false, 0
	w.slotMu.Unlock()
	w.inflight.Add(int64(-n))
}

// gather makes the claim loop, draining a backlog, collect slots before it claims: from now until
// it next takes slots, every send that finishes passes its slot to the loop (w.spare) and wakes it,
// so fresh work's reservations cannot take the slots meanwhile, and queued work keeps going first.
// It returns the slots the loop could take now (free and passed) and the sends under way.
func (w *worker) gather(concurrency int) (avail, busy int) {
	w.slotMu.Lock()
	defer w.slotMu.Unlock()
	w.waiting, w.gathering = true, true
	n := int(w.inflight.Load())
	return concurrency - n + w.spare, n - w.spare
}

// accept makes the worker take reservations, whose sends run under sendCtx, until run ends
// (stopAccepting).
func (w *worker) accept(sendCtx context.Context) {
	w.mu.Lock()
	w.sendCtx = sendCtx
	w.mu.Unlock()
}

// stopAccepting refuses further reservations; run then waits for the sends of those made (w.sends).
func (w *worker) stopAccepting() {
	w.mu.Lock()
	w.sendCtx = nil
	w.mu.Unlock()
}
