//! The server's integration suite: one binary, every test against a real server on port 0
//! with a fresh database. Tests declared with `both_backends!` run on SQLite always and on
//! PostgreSQL when `LATCHKEY_TEST_POSTGRES_URL` is set (scripts/test says which ran); with
//! `all_backends!`, also through PgBouncer in transaction mode when
//! `LATCHKEY_TEST_PGBOUNCER_URL` is set (`scripts/pgbouncer` starts one).

mod capture;
mod helpers;
mod pki;
mod process;
mod smtp;
mod throwaway;

mod account_abuse;
mod auth;
mod bridge;
mod cancel;
mod cli;
mod contract;
mod cookies;
mod email;
mod enumeration;
mod errors;
mod exchange;
mod foreign_hashes;
mod import;
mod instances;
mod jwks;
mod limits;
mod logs;
mod observe;
mod password_context;
mod pgbouncer;
mod profile;
mod reauth;
mod secrets;
mod sessions;
mod settings;
mod shared_database;
mod tasks;
mod templates;
mod tls;
mod unblock;
mod upgrade;
