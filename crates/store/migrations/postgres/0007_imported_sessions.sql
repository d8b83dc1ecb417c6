-- Sessions moved over from the auth system a team switches from (`latchkey import
-- better-auth --sessions`). A request that still carries the old system's signed session
-- cookie exchanges it, once, for a Latchkey session that ends when the old one would have.
-- Only a hash of the old session token is kept, never the token. `source` names the system
-- ('better-auth'); `exchanged_at` is set by the exchange, after which the row is spent.
CREATE TABLE imported_sessions (
    token_hash   TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    user_agent   TEXT,
    ip           TEXT,
    exchanged_at BIGINT
);
CREATE INDEX imported_sessions_by_user ON imported_sessions (user_id);
