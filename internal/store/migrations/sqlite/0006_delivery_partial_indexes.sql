-- Indexes that hold only the rows their queries read. Every delivery used to
-- sit in deliveries_due and deliveries_by_digest from its insert on, and
-- each change of its state moved it in deliveries_due; only what a digest
-- rule collects is read by due time (state 'collecting'), and only merged
-- messages by their digest. A message sent alone now touches neither.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (system, due_at, id) WHERE state = 'collecting';
DROP INDEX deliveries_by_digest;
CREATE INDEX deliveries_by_digest ON deliveries (digest_id, id) WHERE digest_id <> 0;

-- A delivery's rendered message in a table of its own, written once when it
-- is queued (a digest's once more, when its id is known). Its state changes
-- (claimed, sending, sent) then rewrite a small row: with the message in it,
-- every change rewrote the message's bytes too, most of what the pages
-- written per message held.
CREATE TABLE delivery_messages (
    delivery_id INTEGER PRIMARY KEY,
    message     TEXT    NOT NULL
);
INSERT INTO delivery_messages (delivery_id, message) SELECT id, message FROM deliveries;
ALTER TABLE deliveries DROP COLUMN message;
