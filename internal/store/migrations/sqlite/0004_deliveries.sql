-- Deliveries: one message to one channel endpoint (a system that sends),
-- with every attempt. (dedupe_key, system) is unique: one event gives one
-- message per rule and endpoint however often it is dispatched.
--
-- state: queued (waiting for its endpoint's pace), collecting (a digest
-- rule's message waiting for due_at), sending (a call is in flight),
-- sent, merged (carried by digest_id), failed (a person must look).
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    system        TEXT    NOT NULL,
    rule          TEXT    NOT NULL,
    dedupe_key    TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    order_id      INTEGER NOT NULL DEFAULT 0,
    source        TEXT    NOT NULL DEFAULT '',
    order_no      TEXT    NOT NULL DEFAULT '',
    event         TEXT    NOT NULL DEFAULT '',
    total         TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL DEFAULT '',
    lang          TEXT    NOT NULL DEFAULT '',
    priority      INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL,
    message       TEXT    NOT NULL,
    digest_id     INTEGER NOT NULL DEFAULT 0,
    merged        INTEGER NOT NULL DEFAULT 0,
    wait          TEXT    NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    sent_at       INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT    NOT NULL DEFAULT '',
    code          TEXT    NOT NULL DEFAULT '',
    cut           INTEGER NOT NULL DEFAULT 0,
    error_class   TEXT    NOT NULL DEFAULT '',
    error_code    TEXT    NOT NULL DEFAULT '',
    error_message TEXT    NOT NULL DEFAULT '',
    error_hint    TEXT    NOT NULL DEFAULT '',
    -- A rule with to: tries its channels in order: the ones left, by name,
    -- comma-separated, for when this one fails for good or stays unread.
    fallback      TEXT    NOT NULL DEFAULT '',
    -- With escalate:, how long it may stay unread, and when its read
    -- status is next asked (0: not tracked); read_state is read, unread,
    -- partial or escalated.
    escalate_after INTEGER NOT NULL DEFAULT 0,
    check_at      INTEGER NOT NULL DEFAULT 0,
    read_state    TEXT    NOT NULL DEFAULT '',
    UNIQUE (dedupe_key, system)
);
-- The endpoint's queue, most urgent first, then in order.
CREATE INDEX deliveries_queue ON deliveries (system, state, priority DESC, id);
CREATE INDEX deliveries_due ON deliveries (system, state, due_at, id);
CREATE INDEX deliveries_by_order ON deliveries (order_id, id);
CREATE INDEX deliveries_by_digest ON deliveries (digest_id, id);
CREATE INDEX deliveries_read_checks ON deliveries (check_at) WHERE check_at > 0;

-- Every call made for a delivery. at is when the call began: an endpoint's
-- pace is counted from these rows, so it holds across restarts and nodes.
CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    system      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    done_at     INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL DEFAULT 'in_flight',
    code        TEXT    NOT NULL DEFAULT '',
    message     TEXT    NOT NULL DEFAULT '',
    message_id  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_by_system ON delivery_attempts (system, at);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, id);

-- One row per endpoint: a pause after a throttling answer or a failed
-- call, and the lock row that makes one sender at a time claim its slots.
CREATE TABLE endpoints (
    system       TEXT    PRIMARY KEY,
    paused_until INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT    NOT NULL DEFAULT '',
    failures     INTEGER NOT NULL DEFAULT 0
);

-- Access tokens connectors fetch (a 钉钉 app's), shared by the nodes.
CREATE TABLE connector_tokens (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The in-app inbox (站内信): one row per person and message.
CREATE TABLE inbox (
    id         INTEGER PRIMARY KEY,
    person     TEXT    NOT NULL,
    dedupe_key TEXT    NOT NULL,
    rule       TEXT    NOT NULL,
    order_id   INTEGER NOT NULL DEFAULT 0,
    title      TEXT    NOT NULL,
    markdown   TEXT    NOT NULL,
    link       TEXT    NOT NULL DEFAULT '',
    priority   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    read_at    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (person, dedupe_key)
);
CREATE INDEX inbox_by_person ON inbox (person, read_at, id);

-- What each person chose: event types and channels muted, or one channel
-- only.
CREATE TABLE person_prefs (
    person         TEXT    PRIMARY KEY,
    muted_events   TEXT    NOT NULL DEFAULT '',
    muted_channels TEXT    NOT NULL DEFAULT '',
    only_channel   TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER NOT NULL
);
