CREATE TABLE users (
    id           uuid PRIMARY KEY,
    email        text UNIQUE,
    display_name text,
    avatar_url   text,
    provider     text NOT NULL CHECK (provider IN ('email', 'google', 'wallet')),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE identities (
    provider   text NOT NULL,
    subject    text NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (provider, subject)
);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    csrf_hash  bytea NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id),
    name         text NOT NULL,
    key_prefix   text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    scopes       text[] NOT NULL,
    rate_limit   integer NOT NULL DEFAULT 0,
    status       text NOT NULL CHECK (status IN ('active', 'revoked')),
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    replaced_by  uuid
);
CREATE INDEX api_keys_by_user ON api_keys (user_id, created_at);
-- Two concurrent first /me calls must not both create a default key.
CREATE UNIQUE INDEX api_keys_one_default ON api_keys (user_id) WHERE is_default AND status = 'active';

CREATE TABLE login_codes (
    request_id  uuid PRIMARY KEY,
    email       text NOT NULL,
    code_mac    bytea NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz
);
CREATE INDEX login_codes_by_email ON login_codes (email, created_at);

CREATE TABLE wallet_challenges (
    nonce      uuid PRIMARY KEY,
    chain      text NOT NULL,
    address    text NOT NULL,
    message    text NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
