-- Orders: one row per (source, order_no) holding the current canonical
-- snapshot; every version's raw payload in order_versions; the events each
-- version implied; and the timeline every stage appends to.
-- Times are Unix microseconds, UTC.
CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    source         TEXT    NOT NULL,
    order_no       TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    total_fen      INTEGER NOT NULL,
    payload_hash   BLOB    NOT NULL,
    doc_updated_at INTEGER NOT NULL,
    first_seen_at  INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    canonical      TEXT    NOT NULL,
    UNIQUE (source, order_no)
);
CREATE INDEX orders_by_update ON orders (updated_at, id);

CREATE TABLE order_versions (
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    version      INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    payload_hash BLOB    NOT NULL,
    raw          BLOB    NOT NULL,
    PRIMARY KEY (order_id, version)
);

CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    version     INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    status_from TEXT    NOT NULL,
    status_to   TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- Steps taken on an order other than accepted versions, which are their
-- own "received" steps (order_versions); stale pushes and later stages.
CREATE TABLE order_timeline (
    id       INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    at       INTEGER NOT NULL,
    stage    TEXT    NOT NULL,
    detail   TEXT    NOT NULL
);
CREATE INDEX order_timeline_by_order ON order_timeline (order_id, id);

-- How far each consumer of order_events has read.
CREATE TABLE event_cursors (
    consumer TEXT    PRIMARY KEY,
    last_id  INTEGER NOT NULL
);
