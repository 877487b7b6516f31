-- Sessions users can see and end (spec §2.9-2.11): a public id that is not the token, where and
-- how each session signed in, when it was last used, and why it ended; and the account activity
-- log, written in the same transaction as each change it records.
--
-- SQLite cannot add NOT NULL columns without constant defaults, so the table is rebuilt (nothing
-- references `sessions`). Existing rows get a random version-4 UUID, their user's provider,
-- last seen at sign-in, and `signed_out` if revoked (the cause was not recorded before).
CREATE TABLE sessions_0003 (
    token_hash     BLOB PRIMARY KEY,
    csrf_hash      BLOB NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id),
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    revoked_at     TEXT,
    id             TEXT NOT NULL,
    provider       TEXT NOT NULL CHECK (provider IN ('email', 'google', 'wallet', 'passkey')),
    last_seen_at   TEXT NOT NULL,
    ip             TEXT,
    user_agent     TEXT CHECK (length(user_agent) <= 512),
    revoked_reason TEXT CHECK (revoked_reason IN
                       ('signed_out', 'revoked', 'signed_out_everywhere', 'replaced', 'admin'))
) WITHOUT ROWID;
INSERT INTO sessions_0003 (token_hash, csrf_hash, user_id, created_at, expires_at, revoked_at,
                           id, provider, last_seen_at, revoked_reason)
SELECT token_hash, csrf_hash, user_id, created_at, expires_at, revoked_at,
       lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
           || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2)
           || '-' || lower(hex(randomblob(6))),
       (SELECT provider FROM users WHERE users.id = sessions.user_id),
       created_at,
       CASE WHEN revoked_at IS NOT NULL THEN 'signed_out' END
FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_0003 RENAME TO sessions;
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);
-- As before: an index that a revoke does not change, so logout writes no page for it.
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_revocation ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Clustered by (user, time): one user's events newest first, paged by (at, id) keyset cursors,
-- are one range of the table, and an insert writes the table and the `at` index only.
CREATE TABLE activity_events (
    id         TEXT NOT NULL,
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
    passkey_id TEXT,
    PRIMARY KEY (user_id, at, id)
) WITHOUT ROWID;
-- The retention purge.
CREATE INDEX activity_by_time ON activity_events (at);
