-- Per-client abuse limits: one fixed-window counter per (bucket, client key, window start),
-- shared by every process on this database. Rows past `expires_at` are purged.
CREATE TABLE rate_limits (
    bucket       text NOT NULL,
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (bucket, key, window_start)
);
CREATE INDEX rate_limits_by_expiry ON rate_limits (expires_at);

-- Indexes for the housekeeping purge, so each batched DELETE finds its rows without a scan.
CREATE INDEX sessions_by_revocation ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX login_codes_by_creation ON login_codes (created_at);
CREATE INDEX wallet_challenges_by_expiry ON wallet_challenges (expires_at);
