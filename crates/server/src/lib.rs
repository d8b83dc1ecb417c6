//! # latchkey-server
//!
//! The HTTP face of Latchkey: a poem-openapi API over the core's logic and the store's state.
//! `main.rs` only parses the command line, starts tracing and awaits [`startup::run`].
//!
//! # Layout
//!
//! - [`settings`]: the one settings struct, nested by concern, loaded in layers (defaults,
//!   file, environment, flags); secrets that never print; production's refusals.
//! - [`files`]: private files (secrets, keys), written atomically.
//! - [`state`]: [`state::AppState`], everything a request handler may touch.
//! - [`clock`]: the injected clock (system time in production, a hand-moved one in tests).
//! - [`passwords`]: argon2id on the blocking pool, with bounded concurrency and a dummy hash;
//!   imported bcrypt and scrypt hashes verified there too, refusals padded to one time.
//! - [`error`]: the single place where an error becomes an HTTP status and a JSON body.
//! - [`auth`]: the caller (bearer header or access cookie), the CSRF rule, client info.
//! - [`logging`]: log output that keeps one event on one line, whatever a client sends.
//! - [`liveness`]: the short-lived cache of "is this session still live".
//! - [`profiles`]: the short-lived cache of the user `GET /me` returns.
//! - [`mail`]: email templates, the SMTP / file / in-memory mailers, and the outbox worker.
//! - [`keys`]: the Ed25519 keys file (EdDSA), its rotation and pruning.
//! - [`flows`]: the use cases (register, sign in, refresh, recover, change the account…) as
//!   plain async functions over a request context; no HTTP types.
//! - [`api`]: one `#[OpenApi]` struct per tag (auth, sessions, tasks, health, keys), the
//!   DTOs, and the bearer/cookie transport of auth responses.
//! - [`observe`]: request ids, the access log, Prometheus metrics and their listener.
//! - [`limits`]: the request-body size limit, and the per-address ceiling on auth calls.
//! - [`limiter`]: rate-limit rules and their counter stores (memory, database, Redis).
//! - [`import`]: `latchkey import`, users moved over from Better Auth, a users table or a
//!   JSONL export, with their ids, password hashes and sessions.
//! - [`startup`]: assembling the routes and serving them on a listener.
//! - [`tls`]: the one rustls provider, CA files, and a refused certificate in words.

pub mod api;
pub mod auth;
pub mod clock;
pub mod error;
pub mod files;
pub mod flows;
pub mod import;
pub mod keys;
pub mod limiter;
pub mod limits;
pub mod liveness;
pub mod logging;
pub mod mail;
pub mod observe;
pub mod passwords;
pub mod profiles;
pub mod settings;
pub mod startup;
pub mod state;
pub mod tls;
