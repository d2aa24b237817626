-- Indexes that hold only the rows their queries read. Every delivery used to
-- sit in deliveries_due and deliveries_by_digest from its insert on, and
-- each change of its state moved it in deliveries_due; only what a digest
-- rule collects is read by due time (state 'collecting'), and only merged
-- messages by their digest. A message sent alone now touches neither.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (system, due_at, id) WHERE state = 'collecting';
DROP INDEX deliveries_by_digest;
CREATE INDEX deliveries_by_digest ON deliveries (digest_id, id) WHERE digest_id <> 0;
