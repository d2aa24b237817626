-- Pulled documents that cannot be turned into orders (a field the canonical
-- form cannot hold). The rest of their page is stored and the sync time moves
-- on; a refusal stays here, where GET /v1/flows shows it, until a later pull
-- converts the same document (fixed at the source, or read by a backfill).
CREATE TABLE pull_refusals (
    source      TEXT    NOT NULL,
    doc_no      TEXT    NOT NULL,
    modified    BIGINT  NOT NULL DEFAULT 0,
    field       TEXT    NOT NULL DEFAULT '',
    value       TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL,
    hint        TEXT    NOT NULL DEFAULT '',
    raw         TEXT    NOT NULL DEFAULT '',
    window_from BIGINT  NOT NULL DEFAULT 0,
    window_to   BIGINT  NOT NULL DEFAULT 0,
    first_at    BIGINT  NOT NULL,
    last_at     BIGINT  NOT NULL,
    times       BIGINT  NOT NULL DEFAULT 1,
    PRIMARY KEY (source, doc_no)
);
