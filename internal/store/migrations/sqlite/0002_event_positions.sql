-- Events are handed to consumers in (xid, id) order. On PostgreSQL xid is
-- the writing transaction's id (see the PostgreSQL migration); SQLite has one
-- writer, events commit in id order, and xid stays 0.
ALTER TABLE order_events ADD COLUMN xid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_cursors ADD COLUMN last_xid INTEGER NOT NULL DEFAULT 0;
