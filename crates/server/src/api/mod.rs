//! The API: one `#[OpenApi]` struct per tag, assembled into one service. Handlers translate
//! between HTTP and [`crate::flows`]: they read the transport (body or cookies, the CSRF
//! rule, DTOs), call one flow, and shape its outcome into a response.

pub mod account;
pub mod auth;
pub mod dto;
mod examples;
pub mod exchange;
pub mod failures;
pub mod health;
mod held;
pub mod json;
pub mod jwks;
pub mod recovery;
pub mod sessions;
pub mod tasks;
pub mod text;
pub mod transport;
pub mod unblock;

use poem_openapi::{OpenApiService, Tags};

#[derive(Tags)]
pub enum ApiTags {
    /// Registration, sign-in, refresh, sign-out, and recovery by email (password reset,
    /// address verification).
    Auth,
    /// The signed-in user: their profile (`/me`), password and email address.
    Account,
    /// The signed-in user's sessions (devices): list, revoke one, revoke the others.
    Sessions,
    /// The signed-in user's tasks; every query is scoped to the caller.
    Tasks,
    /// Liveness and readiness probes.
    Health,
    /// The public keys that verify access tokens.
    Keys,
}

pub type Apis = (
    auth::AuthApi,
    exchange::ExchangeApi,
    recovery::RecoveryApi,
    unblock::UnblockApi,
    account::AccountApi,
    sessions::SessionsApi,
    tasks::TasksApi,
    health::HealthApi,
    jwks::JwksApi,
);

/// The service whose document is `openapi/openapi.json`.
pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(Apis::default(), "Latchkey", env!("CARGO_PKG_VERSION")).description(
        "Authentication for Next.js apps with a Rust core. Every error answers with \
         `{\"error\": code, \"message\": text, \"requestId\": id}`; match on the stable \
         `error` code, and quote `requestId` (also the `X-Request-Id` header) to the operator.",
    )
}
