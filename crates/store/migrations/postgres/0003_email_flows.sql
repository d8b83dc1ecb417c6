-- Email flows: profile images, one-time tokens, and the durable mail outbox.

-- A profile picture, as an http(s) URL the app shows; Latchkey never fetches it.
ALTER TABLE users ADD COLUMN image TEXT;

-- The links in reset, verification and email-change emails. A token is derived from
-- (server key, id, seed, purpose) and only its SHA-256 is kept, so this table cannot
-- produce a link. Consuming one is a single compare-and-set on used_at. `email` is the
-- address the link went to: the new address for change_email, and for verify_email the
-- address that was current, so a link cannot verify an address it was not sent to.
CREATE TABLE one_time_tokens (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    seed       TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX one_time_tokens_by_user ON one_time_tokens (user_id, purpose, created_at);

-- Every email is written here in the same transaction as the change that caused it; a
-- worker sends it with retries, so an SMTP outage or a restart delays mail but loses none.
-- A row names its template (kind) and its data (JSON: a name, an address, never a token);
-- a link is rendered at send time from token_id. No foreign key on token_id: if the user
-- is deleted, the mail is skipped rather than the row lost.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    data            TEXT NOT NULL,
    token_id        TEXT,
    created_at      BIGINT NOT NULL,
    -- Also the lease: a worker that takes a message pushes this forward before sending.
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_failed ON mail_outbox (failed_at) WHERE failed_at IS NOT NULL;
