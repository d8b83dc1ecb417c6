-- Sessions become refresh-token families, and security events get a table.
--
-- A session's refresh tokens are derived from (server key, session id, refresh_seed,
-- generation); only their SHA-256 hashes are kept, in refresh_tokens. `generation` is the
-- live token's; rotating compares-and-sets it, so two concurrent refreshes cannot both win.
-- expires_at is now the sliding (idle) expiry, never past absolute_expires_at.
ALTER TABLE sessions ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN refresh_seed TEXT;
ALTER TABLE sessions ADD COLUMN absolute_expires_at BIGINT;
UPDATE sessions SET absolute_expires_at = expires_at;

-- One row per token ever issued, so a spent one is recognised (and its reuse detected) for
-- as long as its session lives. UNIQUE (session_id, generation) is the no-fork guarantee
-- stated in the schema itself.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    spent_at   BIGINT,
    UNIQUE (session_id, generation)
);

-- The audit trail: sign-ins, refresh-token reuse, revocations. No tokens or secrets, ever.
-- user_id is kept as plain text (no foreign key) so the trail outlives a deleted account.
CREATE TABLE security_events (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT,
    session_id TEXT,
    ip         TEXT,
    user_agent TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX security_events_by_user ON security_events (user_id, created_at);
