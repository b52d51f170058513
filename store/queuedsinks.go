package store

// QueuedSinksSQL lists, by name, the sinks that have a delivery pending or in flight (due_at set),
// in the SQL that both stores' schemas answer alike: each has deliveries(sink, due_at) and the
// partial index deliveries_due, led by sink, WHERE due_at IS NOT NULL. The query skips from one sink
// to the next through that index (one search per sink) instead of reading every queued delivery to
// find a few distinct sinks.
const QueuedSinksSQL = `WITH RECURSIVE queued (sink) AS (
		SELECT (SELECT min(sink) FROM deliveries WHERE due_at IS NOT NULL)
		UNION ALL
		SELECT (SELECT min(sink) FROM deliveries WHERE due_at IS NOT NULL AND sink > queued.sink)
		FROM queued WHERE queued.sink IS NOT NULL)
	SELECT sink FROM queued WHERE sink IS NOT NULL`
