-- Console users: a name to sign in with, a role (admin, operator or
-- viewer) and an encoded password hash that names its own algorithm and
-- parameters, so they can be raised later without a migration. disabled
-- (0 or 1) keeps the row, and its history, while refusing sign-in. lang
-- is the language the console speaks to the user (zh-CN or en).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    lang          TEXT    NOT NULL DEFAULT 'zh-CN',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Signed-in sessions. id_hash is the SHA-256 of the cookie's random id, so
-- that reading this table does not give anyone a session. A session ends
-- at expires_at, or earlier when unused for the idle timeout since
-- seen_at; ending one deletes its row.
CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_seen ON sessions (seen_at);
