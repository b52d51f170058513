package sqlite

// queueCountsMigration (version 7) keeps the number of unfinished deliveries per sink, state and
// attempts in queue_counts, maintained by triggers in the very statement that inserts, changes or
// deletes a delivery, so that Stats (the queue-depth metrics, /api/sinks, the console) reads a few
// rows instead of counting a backlog entry by entry: with 470 000 deliveries queued, counting them
// through the partial index deliveries_unfinished took 1.5–2 s per call. Delivered rows, the vast
// majority, are not counted. A count that drops to zero keeps its row (a few per sink and attempts
// value); Stats skips it.
const queueCountsMigration = `CREATE TABLE queue_counts (
		sink     TEXT    NOT NULL,
		state    TEXT    NOT NULL,
		attempts INTEGER NOT NULL,
		n        INTEGER NOT NULL,
		PRIMARY KEY (sink, state, attempts)
	) WITHOUT ROWID;
	INSERT INTO queue_counts (sink, state, attempts, n)
		SELECT sink, state, attempts, count(*) FROM deliveries WHERE state != 'delivered'
		GROUP BY sink, state, attempts;
	CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries WHEN NEW.state != 'delivered' BEGIN
		INSERT INTO queue_counts (sink, state, attempts, n) VALUES (NEW.sink, NEW.state, NEW.attempts, 1)
			ON CONFLICT (sink, state, attempts) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries WHEN OLD.state != 'delivered' BEGIN
		UPDATE queue_counts SET n = n - 1 WHERE sink = OLD.sink AND state = OLD.state AND attempts = OLD.attempts;
	END;
	CREATE TRIGGER deliveries_count_update AFTER UPDATE OF sink, state, attempts ON deliveries
		WHEN OLD.sink != NEW.sink OR OLD.state != NEW.state OR OLD.attempts != NEW.attempts BEGIN
		UPDATE queue_counts SET n = n - 1
			WHERE OLD.state != 'delivered' AND sink = OLD.sink AND state = OLD.state AND attempts = OLD.attempts;
		INSERT INTO queue_counts (sink, state, attempts, n) SELECT NEW.sink, NEW.state, NEW.attempts, 1
			WHERE NEW.state != 'delivered'
			ON CONFLICT (sink, state, attempts) DO UPDATE SET n = n + 1;
	END;`

// statsSQL reads the counts of queue_counts, and for each group of queued deliveries the oldest
// queued_at with one search of the partial index deliveries_unfinished (sink, state, attempts,
// queued_at): its first entry after the three equalities. Dead ones need no age.
const statsSQL = `SELECT c.sink, c.state, c.attempts > 0, c.n,
		CASE WHEN c.state = 'dead' THEN 0 ELSE (SELECT min(d.queued_at) FROM deliveries d
			WHERE d.sink = c.sink AND d.state = c.state AND d.attempts = c.attempts AND d.state != 'delivered') END
	FROM queue_counts c WHERE c.n > 0 ORDER BY c.sink`
