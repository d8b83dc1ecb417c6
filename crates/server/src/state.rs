//! What every handler can reach.

use std::sync::Arc;

use latchkey_core::hash::DEFAULT_COST;
use latchkey_core::{AccessTokens, PasswordPolicy, Secret};
use latchkey_store::Store;

use crate::clock::Clock;
use crate::config::Settings;
use crate::passwords::Hasher;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: AccessTokens,
    pub policy: PasswordPolicy,
    pub hasher: Hasher,
    pub clock: Arc<dyn Clock>,
    pub session_ttl_ms: i64,
}

impl AppState {
    pub fn new(
        settings: &Settings,
        secret: &Secret,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let tokens = AccessTokens::new(secret, &settings.issuer, &settings.audience)
            .with_lifetime(settings.access_token_ttl);
        Ok(AppState {
            store,
            tokens,
            policy: PasswordPolicy::new(usize::from(settings.password_min_length))?,
            hasher: Hasher::new(DEFAULT_COST),
            clock,
            session_ttl_ms: settings.session_ttl.saturating_mul(1000),
        })
    }
}
