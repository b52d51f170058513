package router

import (
	"github.com/switchboard-relay/switchboard/dispatch"
	"github.com/switchboard-relay/switchboard/store"
)

// reserve asks for a reservation (Options.Reserve) for each delivery of ds that is to be sent, and
// gives each one it got its lease, so that the store creates it already claimed. It returns the
// reservations by index in ds, nil where there is none; nil when there are none at all.
func (r *Router) reserve(ds []store.NewDelivery) []*dispatch.Reservation {
	if r.opts.Reserve == nil {
		return nil
	}
	var res []*dispatch.Reservation
	for i := range ds {
		if ds[i].Dead {
			continue
		}
		rv, ok := r.opts.Reserve(ds[i].Sink)
		if !ok {
			continue
		}
		if res == nil {
			res = make([]*dispatch.Reservation, len(ds))
		}
		rv.Lease(&ds[i])
		res[i] = rv
	}
	return res
}

// handOver hands each reserved delivery that Ingest stored leased (as ids) to its sink's worker, whose
// send starts in its own goroutine. It cancels the reservations of deliveries Ingest stored pending
// (their sink paused or held meanwhile, which Ingest says by clearing their lease), or of all when
// the ingest failed (err, a duplicate included).
func handOver(res []*dispatch.Reservation, c *store.Call, ds []store.NewDelivery, ids []int64, err error) {
	for i, rv := range res {
		switch {
		case rv == nil:
		case err != nil || i >= len(ids) || !ds[i].Leased():
			rv.Cancel()
		default:
			rv.Hand(store.LeasedDelivery(ids[i], c, &ds[i]))
		}
	}
}

// cancelAll cancels every reservation of res not yet handed or cancelled.
func cancelAll(res []*dispatch.Reservation) {
	for _, rv := range res {
		if rv != nil {
			rv.Cancel()
		}
	}
}
