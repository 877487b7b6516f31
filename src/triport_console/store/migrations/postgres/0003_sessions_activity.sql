-- Sessions users can see and end (spec §2.9-2.11): a public id that is not the token, where and
-- how each session signed in, when it was last used, and why it ended; and the account activity
-- log, written in the same transaction as each change it records.
ALTER TABLE sessions
    ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN provider text,
    ADD COLUMN last_seen_at timestamptz,
    ADD COLUMN ip text,
    ADD COLUMN user_agent text CHECK (length(user_agent) <= 512),
    ADD COLUMN revoked_reason text CHECK (revoked_reason IN
        ('signed_out', 'revoked', 'signed_out_everywhere', 'replaced', 'admin'));
UPDATE sessions s SET last_seen_at = s.created_at, provider = u.provider,
    revoked_reason = CASE WHEN s.revoked_at IS NOT NULL THEN 'signed_out' END
    FROM users u WHERE u.id = s.user_id;
ALTER TABLE sessions
    ALTER COLUMN provider SET NOT NULL,
    ALTER COLUMN last_seen_at SET NOT NULL,
    ADD CONSTRAINT sessions_provider_check
        CHECK (provider IN ('email', 'google', 'wallet', 'passkey'));
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);

CREATE TABLE activity_events (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    type       text NOT NULL CHECK (type IN ('signed_in', 'signed_out', 'session_revoked',
                   'signed_out_everywhere', 'key_created', 'key_rotated', 'key_revoked',
                   'passkey_added', 'passkey_removed')),
    at         timestamptz NOT NULL,
    ip         text,
    user_agent text CHECK (length(user_agent) <= 512),
    provider   text CHECK (provider IN ('email', 'google', 'wallet', 'passkey')),
    session_id uuid,
    key_id     uuid,
    passkey_id uuid
);
-- One user's events newest first, paged by (at, id) keyset cursors.
CREATE INDEX activity_by_user ON activity_events (user_id, at DESC, id DESC);
-- The retention purge.
CREATE INDEX activity_by_time ON activity_events (at);
