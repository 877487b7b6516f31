-- Passkeys (spec §2.12): WebAuthn credentials registered from the console, and the single-use
-- challenges of registration and sign-in ceremonies.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    credential_id BLOB NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,          -- the COSE key as the authenticator sent it
    sign_count    INTEGER NOT NULL,       -- the last signature counter seen (0: none kept)
    transports    TEXT NOT NULL,          -- JSON list, handed back in excludeCredentials
    name          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    -- Removed passkeys stay (soft delete) so that a repeated DELETE is still a 200 for their
    -- owner; they never sign in again. The unique credential_id keeps a removed one out too.
    removed_at    TEXT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

-- Only SHA-256(challenge) is kept; the challenge itself travels in the options and comes back
-- inside the signed clientDataJSON. `user_id` binds a registration challenge to its account
-- (NULL for sign-in: discoverable credentials name the account themselves).
CREATE TABLE passkey_challenges (
    challenge_hash BLOB PRIMARY KEY,
    purpose        TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in')),
    user_id        TEXT REFERENCES users (id),
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT
) WITHOUT ROWID;
CREATE INDEX passkey_challenges_by_expiry ON passkey_challenges (expires_at);
