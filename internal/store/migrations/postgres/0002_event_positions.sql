-- Ingest transactions commit side by side, so event ids do not commit in id
-- order. Each event carries the id of the transaction that wrote it, and
-- consumers read in (xid, id) order up to the oldest transaction still
-- running (pg_snapshot_xmin): below it nothing can still commit, so what a
-- consumer has read is a prefix that never gains a member behind it.
ALTER TABLE order_events ADD COLUMN xid BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX order_events_by_position ON order_events (xid, id);
ALTER TABLE event_cursors ADD COLUMN last_xid BIGINT NOT NULL DEFAULT 0;
-- Events already read keep counting as read: they all took this
-- transaction's id above, so a cursor past some of them moves to it.
UPDATE event_cursors SET last_xid = pg_current_xact_id()::text::bigint WHERE last_id > 0;
