-- Rate limiting and brute-force defence.

-- The database rate-limit store: one counter per (bucket, window). `bucket` names the rule
-- and its key (e.g. `signin_ip:203.0.113.9`); `win` is the window's index (PostgreSQL
-- reserves WINDOW). An increment is one upsert, atomic on both backends, so instances
-- sharing the database share their limits. Rows past expires_at are deleted from time to
-- time.
CREATE TABLE rate_counters (
    bucket     TEXT NOT NULL,
    win        BIGINT NOT NULL,
    hits       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (bucket, win)
);
CREATE INDEX rate_counters_by_expiry ON rate_counters (expires_at);

-- Consecutive failed sign-ins per email key, for the growing backoff and the hard block.
-- Keyed by the address, not the account, and kept for addresses with no account too, so
-- the backoff itself cannot tell which addresses are registered. A successful sign-in or a
-- password reset deletes the row.
CREATE TABLE sign_in_failures (
    email_key      TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL
);
