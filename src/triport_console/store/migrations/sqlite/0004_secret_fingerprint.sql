-- Spec §2.13: every process on one database must use one TRIPORT_SECRET_KEY. The first start
-- records HMAC-SHA256(secret, fixed label), never the secret; a later start with another secret
-- sees a different fingerprint and refuses to start. One row at most.
CREATE TABLE secret_fingerprint (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint BLOB NOT NULL,
    recorded_at TEXT NOT NULL
);
