-- Timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width, so they compare as text).
CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    email        TEXT UNIQUE,
    display_name TEXT,
    avatar_url   TEXT,
    provider     TEXT NOT NULL CHECK (provider IN ('email', 'google', 'wallet')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (provider, subject)
) WITHOUT ROWID;

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    csrf_hash  BLOB NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    key_prefix   TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    rate_limit   INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    is_default   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    replaced_by  TEXT
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at);
-- Two concurrent first /me calls must not both create a default key.
CREATE UNIQUE INDEX api_keys_one_default ON api_keys (user_id) WHERE is_default = 1 AND status = 'active';

CREATE TABLE login_codes (
    request_id  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    code_mac    BLOB NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    consumed_at TEXT
);
CREATE INDEX login_codes_by_email ON login_codes (email, created_at);

CREATE TABLE wallet_challenges (
    nonce      TEXT PRIMARY KEY,
    chain      TEXT NOT NULL,
    address    TEXT NOT NULL,
    message    TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
