-- The first tables: accounts, their password credentials, sign-in sessions, and the seeds'
-- per-user tasks. Timestamps are Unix milliseconds; ids are UUID strings.

-- One row per account. email keeps the address as typed (domain lower-cased); email_key is
-- the whole address lower-cased, and is what uniqueness and sign-in look-ups use.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    email_key      TEXT NOT NULL UNIQUE,
    name           TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- Password hashes live apart from users so that other sign-in methods can be added beside them.
CREATE TABLE credentials (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- A session is one sign-in on one device. Access tokens name it (sid) and are refused once
-- it is revoked or expired.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    user_agent   TEXT,
    ip           TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Every query on tasks is scoped by user_id; the index serves the newest-first list.
CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    description TEXT,
    completed   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX tasks_by_user ON tasks (user_id, created_at);
