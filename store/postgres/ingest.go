package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-relay/switchboard/store"
)

// Ingest stores a call and its deliveries, grouped with concurrent calls into one transaction, and
// returns the deliveries' ids in order once the commit is durable. It returns store.ErrDuplicate when
// a call with the same id is stored, by this or any other replica (store.ErrConflict when the stored
// call's content differs); of two replicas ingesting the same
// id at once, exactly one succeeds. A zero ReceivedAt is taken as now. Pending deliveries are due at
// ReceivedAt, and every replica's Watch hears of their sinks; leased ones are in flight, due when
// their lease expires.
//
// If ctx is done before the call's batch starts, Ingest returns ctx.Err() and the call is not stored;
// once the batch has started it waits for the outcome, so that its answer matches what was committed.
func (s *Store) Ingest(ctx context.Context, c *store.Call, ds []store.NewDelivery) ([]int64, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("ingest call: no call given")
	}
	for i, d := range ds {
		if d.Leased() && d.LeaseExpires.IsZero() {
			return nil, fmt.Errorf("store call %d: delivery %d: leased to %q without a lease expiry", c.ID, i, d.LeaseOwner)
		}
	}
	ids, err := s.ingest.Ingest(ctx, c, ds)
	gaveUp := ctx.Err() != nil && err == ctx.Err()
	if err != nil && !errors.Is(err, store.ErrDuplicate) && err != store.ErrClosed && !gaveUp {
		return nil, fmt.Errorf("store call %d: %w", c.ID, err)
	}
	return ids, err
}

// Group commit: Ingest calls queue in a store.GroupCommitter and are committed in batches, one
// transaction (so one WAL flush) per batch. Under load a batch is whatever queued while the previous
// commit ran, up to MaxBatch; a committer that finds a batch not full waits up to MaxWait for more,
// which costs a lone caller about a millisecond and saves a flush per caller when many arrive together.
var ingestOptions = store.GroupCommitOptions{
	MaxBatch:   128,
	MaxWait:    time.Millisecond,
	Committers: 2, // one gathers a batch while the other commits
}

// commitTimeout bounds one batch's transaction. It is not any caller's context: a caller giving up
// must not fail the others of its batch.
const commitTimeout = 30 * time.Second

// commitBatch is the GroupCommitter's store.CommitFunc (see commitIsolating).
func (s *Store) commitBatch(batch []*store.IngestRequest) error {
	return commitIsolating(batch, s.commitTx)
}

// commitIsolating commits batch with commit, each try bounded by commitTimeout. When the database
// rejects the batch (a statement error, not a lost connection), it commits each call alone, so that one
// bad call fails only its own caller.
func commitIsolating(batch []*store.IngestRequest, commit func(context.Context, []*store.IngestRequest) error) error {
	once := func(batch []*store.IngestRequest) error {
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		defer cancel()
		for _, r := range batch {
			r.IDs, r.Err, r.Unleased = nil, nil, nil
		}
		return commit(ctx, batch)
	}
	err := once(batch)
	var pgErr *pgconn.PgError
	if err == nil || len(batch) == 1 || !errors.As(err, &pgErr) {
		return err
	}
	for _, r := range batch {
		if err := once([]*store.IngestRequest{r}); err != nil {
			r.IDs, r.Err, r.Unleased = nil, err, nil
		}
	}
	return nil
}

// insertCall inserts one call and, when it is new, its deliveries; it returns whether the call was
// new and the deliveries' ids. Identity values are drawn in insertion order, which follows the
// ordinality, so sorting the ids restores the order of ds.
const insertCall = `WITH c AS (
	INSERT INTO calls (id, received_at, status, matched, raw, customer_phone, phone_rev, duration, indexed)
	VALUES ($1, $2, $3, $4, $5, $13, $14, $15, true)
	ON CONFLICT (id) DO NOTHING
	RETURNING id, received_at
), r AS (
	INSERT INTO call_rules (call_id, rule, received_at)
	SELECT c.id, m.rule, c.received_at FROM c, unnest($4::text[]) AS m(rule)
	ON CONFLICT DO NOTHING
), d AS (
	INSERT INTO deliveries (call_id, rule, action, sink, message, state, attempts, attempt_number,
		next_attempt_at, due_at, received_at, queued_at, lease_owner, lease_expires,
		last_reason, last_error, updated_at)
	SELECT c.id, x.rule, x.action, x.sink, x.message,
		CASE WHEN x.dead THEN 'dead' WHEN x.leased THEN 'in_flight' ELSE 'pending' END,
		CASE WHEN x.leased THEN 1 ELSE 0 END, CASE WHEN x.leased THEN 1 ELSE 0 END,
		c.received_at,
		CASE WHEN x.dead THEN NULL WHEN x.leased THEN x.expires ELSE c.received_at END,
		c.received_at, c.received_at,
		CASE WHEN x.leased THEN x.owner ELSE '' END, CASE WHEN x.leased THEN x.expires END,
		x.reason, x.error, c.received_at
	FROM c, (
		-- A lease is taken only while the sink is active, as Claim does. The sinks that are not are
		-- read once per statement (an uncorrelated ARRAY(...) is an InitPlan): a NOT EXISTS per
		-- delivery doubled PostgreSQL's CPU per webhook.
		SELECT u.*, u.owner <> '' AND NOT u.dead
			AND u.sink <> ALL (ARRAY(SELECT s.sink FROM sink_states s WHERE s.state <> 'active')) AS leased
		FROM unnest($6::text[], $7::integer[], $8::text[], $9::bytea[], $10::boolean[], $11::text[], $12::text[],
			$16::text[], $17::timestamptz[])
			WITH ORDINALITY AS u(rule, action, sink, message, dead, reason, error, owner, expires, ord)
	) x
	ORDER BY x.ord
	RETURNING id, state, updated_at
), p AS (
	INSERT INTO notify_pending (delivery_id, died_at) SELECT id, updated_at FROM d WHERE state = 'dead'
)
SELECT (SELECT count(*) FROM c), array(SELECT id FROM d ORDER BY id),
	array(SELECT state = 'in_flight' FROM d ORDER BY id)`

// commitTx commits batch in one transaction, one round trip for all the calls, setting IDs or Err
// (store.ErrDuplicate, store.ErrConflict) on each.
func (s *Store) commitTx(ctx context.Context, batch []*store.IngestRequest) error {
	// Calls in id order, so that two replicas' batches sharing ids lock them in the same order and
	// cannot deadlock.
	order := slices.Clone(batch)
	slices.SortStableFunc(order, func(a, b *store.IngestRequest) int { return cmp.Compare(a.Call.ID, b.Call.ID) })

	now := time.Now()
	var b pgx.Batch
	// Durable even where the server's default is asynchronous commit.
	b.Queue(`SET LOCAL synchronous_commit = on`)
	for _, r := range order {
		c := r.Call
		received := c.ReceivedAt
		if received.IsZero() {
			received = now
		}
		matched := c.Matched
		if matched == nil {
			matched = []string{}
		}
		n := len(r.Deliveries)
		rules, sinks, reasons, errs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		actions, messages, dead := make([]int32, n), make([][]byte, n), make([]bool, n)
		// A leased delivery (store.NewDelivery.LeaseOwner) has an owner; the others an empty one
		// and an expiry that is not used.
		owners, expires := make([]string, n), make([]time.Time, n)
		for i, d := range r.Deliveries {
			rules[i], actions[i], sinks[i], messages[i] = d.Rule, int32(d.Action), d.Sink, d.Message
			dead[i], reasons[i], errs[i] = d.Dead, store.CleanText(d.Reason), store.CleanText(d.Error)
			expires[i] = received
			if d.Leased() {
				owners[i], expires[i] = d.LeaseOwner, d.LeaseExpires
			}
		}
		f := store.FieldsOf(c)
		b.Queue(insertCall, c.ID, received, store.CleanText(c.Status), matched, c.Raw,
			rules, actions, sinks, messages, dead, reasons, errs, store.CleanText(f.CustomerPhone), f.PhoneDigits, f.Duration,
			owners, expires)
	}

	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res := tx.SendBatch(ctx, &b)
		if _, err := res.Exec(); err != nil {
			res.Close()
			return err
		}
		woken := map[string]bool{}
		var dups []*store.IngestRequest
		for _, r := range order {
			var inserted int
			var ids []int64
			var leased []bool
			if err := res.QueryRow().Scan(&inserted, &ids, &leased); err != nil {
				res.Close()
				return err
			}
			if inserted == 0 {
				r.Err = store.ErrDuplicate
				dups = append(dups, r)
				continue
			}
			r.IDs = ids
			for i, d := range r.Deliveries {
				if d.Leased() && !leased[i] {
					r.Unleased = append(r.Unleased, i)
				}
				if !d.Dead && !leased[i] {
					woken[d.Sink] = true
				}
			}
		}
		if err := res.Close(); err != nil {
			return err
		}
		if err := conflicts(ctx, tx, dups); err != nil {
			return err
		}
		return notify(ctx, tx, woken)
	})
}

// conflicts turns the store.ErrDuplicate of each of dups into store.ErrConflict when the stored
// call has other content. A statement sees every call committed before it started, and an insert
// that found a conflicting row waited for that row's transaction to commit, so each stored call is
// visible here.
func conflicts(ctx context.Context, tx pgx.Tx, dups []*store.IngestRequest) error {
	if len(dups) == 0 {
		return nil
	}
	ids := make([]int64, len(dups))
	for i, r := range dups {
		ids[i] = r.Call.ID
	}
	rows, err := tx.Query(ctx, `SELECT id, raw FROM calls WHERE id = ANY ($1)`, ids)
	if err != nil {
		return err
	}
	stored := map[int64][]byte{}
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return err
		}
		stored[id] = raw
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range dups {
		if raw, ok := stored[r.Call.ID]; ok && !store.SameContent(raw, r.Call.Raw) {
			r.Err = store.ErrConflict
		}
	}
	return nil
}

// notify queues a notification per sink, sent by the server when tx commits.
func notify(ctx context.Context, tx pgx.Tx, sinks map[string]bool) error {
	if len(sinks) == 0 {
		return nil
	}
	names := make([]string, 0, len(sinks))
	for sink := range sinks {
		names = append(names, sink)
	}
	slices.Sort(names)
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, sink) FROM unnest($2::text[]) AS sink`, notifyChannel, names)
	return err
}
