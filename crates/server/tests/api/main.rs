//! The server's integration suite: one binary, every test against a real server on port 0
//! with a fresh database. Tests declared with `both_backends!` run on SQLite always and on
//! PostgreSQL when `LATCHKEY_TEST_POSTGRES_URL` is set (scripts/test says which ran).

mod capture;
mod helpers;
mod process;
mod smtp;

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
mod instances;
mod jwks;
mod limits;
mod logs;
mod observe;
mod password_context;
mod profile;
mod reauth;
mod secrets;
mod sessions;
mod settings;
mod tasks;
mod unblock;
mod upgrade;
