//! What every handler can reach.

use std::sync::Arc;

use latchkey_core::cookie::Cookies;
use latchkey_core::csrf::{self, TrustedOrigins};
use latchkey_core::hash::DEFAULT_COST;
use latchkey_core::refresh::{RefreshKey, RefreshPolicy};
use latchkey_core::{AccessTokens, PasswordPolicy, Secret};
use latchkey_store::Store;

use crate::clock::Clock;
use crate::config::{Environment, JwtAlg, Settings};
use crate::keys::KeyFile;
use crate::liveness::LivenessCache;
use crate::passwords::Hasher;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: AccessTokens,
    pub refresh_key: RefreshKey,
    pub refresh_policy: RefreshPolicy,
    pub cookies: Cookies,
    pub trusted_origins: TrustedOrigins,
    pub liveness: LivenessCache,
    pub policy: PasswordPolicy,
    pub hasher: Hasher,
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    pub fn new(
        settings: &Settings,
        secret: &Secret,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let cookies = Cookies::for_public_url(&settings.public_url)
            .map_err(|e| anyhow::anyhow!("LATCHKEY_PUBLIC_URL {:?}: {e}", settings.public_url))?;
        if settings.environment == Environment::Production && !cookies.is_secure() {
            anyhow::bail!(
                "production mode needs an https:// LATCHKEY_PUBLIC_URL: cookies over plain http \
                 can be read by anyone on the network"
            );
        }
        let trusted_origins = TrustedOrigins::parse(
            std::iter::once(csrf::origin_of_url(&settings.public_url))
                .chain(settings.trusted_origins.iter().map(String::as_str)),
        )
        .map_err(|e| anyhow::anyhow!("LATCHKEY_TRUSTED_ORIGINS: {e}"))?;
        Ok(AppState {
            store,
            tokens: access_tokens(settings, secret, clock.now_secs())?,
            refresh_key: RefreshKey::new(secret),
            refresh_policy: RefreshPolicy {
                idle_ms: settings.session_idle_ttl.saturating_mul(1000),
                absolute_ms: settings.session_ttl.saturating_mul(1000),
                grace_ms: settings.refresh_grace.saturating_mul(1000),
            },
            cookies,
            trusted_origins,
            liveness: LivenessCache::new(settings.session_cache_ttl.saturating_mul(1000)),
            policy: PasswordPolicy::new(usize::from(settings.password_min_length))?,
            hasher: Hasher::new(DEFAULT_COST),
            clock,
        })
    }
}

/// HS256 from the secret, or EdDSA from the keys file. In development a missing keys file
/// is created with a first key; production refuses to start without one.
fn access_tokens(settings: &Settings, secret: &Secret, now: i64) -> anyhow::Result<AccessTokens> {
    let tokens = match settings.jwt_alg {
        JwtAlg::Hs256 => AccessTokens::new(secret, &settings.issuer, &settings.audience),
        JwtAlg::EdDsa => {
            let path = &settings.keys_file;
            let mut file = KeyFile::read(path)?;
            if file.keys.is_empty() {
                if settings.environment == Environment::Production {
                    anyhow::bail!(
                        "LATCHKEY_JWT_ALG=EdDSA but {} holds no key; run `latchkey keys generate`",
                        path.display()
                    );
                }
                let kid = file.rotate(now, 0)?;
                file.write(path)?;
                tracing::warn!(file = %path.display(), %kid, "generated a development signing key and saved it in this file");
            }
            let keys = file
                .load(settings.access_token_ttl, AccessTokens::DEFAULT_LEEWAY_SECS)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            AccessTokens::eddsa(
                &keys.signers,
                keys.verifying,
                &settings.issuer,
                &settings.audience,
            )
        }
    };
    Ok(tokens.with_lifetime(settings.access_token_ttl))
}
