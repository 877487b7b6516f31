-- Sessions users can see and end (spec §2.9-2.11): a public id that is not the token, where and
-- how each session signed in, when it was last used, and why it ended; and the account activity
-- log, written in the same transaction as each change it records.
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN provider TEXT
    CHECK (provider IN ('email', 'google', 'wallet', 'passkey'));
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT CHECK (length(user_agent) <= 512);
ALTER TABLE sessions ADD COLUMN revoked_reason TEXT CHECK (revoked_reason IN
    ('signed_out', 'revoked', 'signed_out_everywhere', 'replaced', 'admin'));
-- Existing rows: a random version-4 UUID each, their user's provider, last seen at sign-in.
UPDATE sessions SET
    id = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
        || substr(lower(hex(randomblob(2))), 2) || '-'
        || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
        || '-' || lower(hex(randomblob(6))),
    provider = (SELECT provider FROM users WHERE users.id = sessions.user_id),
    last_seen_at = created_at,
    revoked_reason = CASE WHEN revoked_at IS NOT NULL THEN 'signed_out' END;
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);
-- The user's live sessions, newest first (GET /v1/auth/sessions, revoke-others).
DROP INDEX sessions_by_user;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC) WHERE revoked_at IS NULL;

CREATE TABLE activity_events (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    type       TEXT NOT NULL CHECK (type IN ('signed_in', 'signed_out', 'session_revoked',
                   'signed_out_everywhere', 'key_created', 'key_rotated', 'key_revoked',
                   'passkey_added', 'passkey_removed')),
    at         TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT CHECK (length(user_agent) <= 512),
    provider   TEXT CHECK (provider IN ('email', 'google', 'wallet', 'passkey')),
    session_id TEXT,
    key_id     TEXT,
    passkey_id TEXT
) WITHOUT ROWID;
-- One user's events newest first, paged by (at, id) keyset cursors.
CREATE INDEX activity_by_user ON activity_events (user_id, at DESC, id DESC);
-- The retention purge.
CREATE INDEX activity_by_time ON activity_events (at);
