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

-- Consecutive failed sign-ins per account, for the growing backoff and the hard block.
-- A successful sign-in or a password reset sets it back to zero.
ALTER TABLE users ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_sign_in_at BIGINT;
