-- Pull sources: how far each has synced. synced_to moves only in the
-- transaction that stores the documents of the window it covers.
CREATE TABLE pull_state (
    source        TEXT    PRIMARY KEY,
    synced_to     INTEGER NOT NULL,
    last_from     INTEGER NOT NULL DEFAULT 0,
    last_to       INTEGER NOT NULL DEFAULT 0,
    last_docs     INTEGER NOT NULL DEFAULT 0,
    docs_total    INTEGER NOT NULL DEFAULT 0,
    last_run_at   INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    last_error_at INTEGER NOT NULL DEFAULT 0
);

-- Backfills: a past range pulled through the same path; done_to moves with
-- each window's documents, so a backfill resumes where it stopped.
CREATE TABLE backfills (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    range_from  INTEGER NOT NULL,
    range_to    INTEGER NOT NULL,
    done_to     INTEGER NOT NULL,
    docs        INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source, range_from, range_to)
);

-- Flow items: "the target must reflect this order at want_version". Level,
-- not edge: a newer version raises want_version, and the writer converges.
CREATE TABLE flow_items (
    id            INTEGER PRIMARY KEY,
    flow          TEXT    NOT NULL,
    order_id      INTEGER NOT NULL REFERENCES orders (id),
    want_version  INTEGER NOT NULL,
    done_version  INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    bill_no       TEXT    NOT NULL DEFAULT '',
    target_id     TEXT    NOT NULL DEFAULT '',
    error_class   TEXT    NOT NULL DEFAULT '',
    error_code    TEXT    NOT NULL DEFAULT '',
    error_message TEXT    NOT NULL DEFAULT '',
    error_field   TEXT    NOT NULL DEFAULT '',
    error_hint    TEXT    NOT NULL DEFAULT '',
    request       TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    written_at    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (flow, order_id)
);
CREATE INDEX flow_items_due ON flow_items (flow, state, next_at, id);
CREATE INDEX flow_items_by_state ON flow_items (state, updated_at);
