//! The Ed25519 keys file: where EdDSA signing keys are kept between restarts.
//!
//! The file is JSON, readable by its owner only, replaced atomically on every change. The
//! last key without `retiredAt` signs; `latchkey keys generate` retires it and appends a new
//! one. A retired key keeps verifying (and stays in the JWKS) until the last token it could
//! have signed expires; keys retired longer ago than any token can live are pruned.

use std::path::Path;

use latchkey_core::keys::{PublicKey, SigningKey};
use latchkey_core::{AccessTokens, random};
use serde::{Deserialize, Serialize};

use crate::config::replace_private;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KeyFile {
    pub keys: Vec<StoredKey>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredKey {
    pub kid: String,
    /// The private seed, base64url. This is the secret.
    pub seed: String,
    /// Unix seconds.
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// The keys a server signs and verifies with.
pub struct LoadedKeys {
    pub signing: SigningKey,
    pub verifying: Vec<PublicKey>,
}

impl KeyFile {
    /// Reads `path`; a missing file is an empty set.
    pub fn read(path: &Path) -> anyhow::Result<KeyFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|err| {
                anyhow::anyhow!("{} is not a Latchkey keys file: {err}", path.display())
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(KeyFile::default()),
            Err(err) => anyhow::bail!("cannot read {}: {err}", path.display()),
        }
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        replace_private(path, &(serde_json::to_string_pretty(self)? + "\n"))
    }

    /// Retires the current key at `now` (Unix seconds), adds a fresh one, prunes keys that
    /// no token can still need, and returns the new key's id.
    pub fn rotate(&mut self, now: i64) -> anyhow::Result<String> {
        for key in &mut self.keys {
            key.retired_at.get_or_insert(now);
        }
        let longest = AccessTokens::MAX_LIFETIME_SECS + AccessTokens::MAX_LEEWAY_SECS;
        self.keys.retain(|k| {
            k.retired_at
                .is_none_or(|at| now <= at.saturating_add(longest))
        });
        let key = SigningKey::from_seed(random::bytes::<32>()?);
        let kid = key.kid().to_owned();
        self.keys.push(StoredKey {
            kid: kid.clone(),
            seed: key.seed_b64(),
            created_at: now,
            retired_at: None,
        });
        Ok(kid)
    }

    /// The signing key and every key still verifying, each retired key valid until
    /// `retired_at + token_lifetime + leeway`.
    pub fn load(&self, token_lifetime_secs: i64, leeway_secs: i64) -> anyhow::Result<LoadedKeys> {
        let mut signing = None;
        let mut verifying = Vec::new();
        for stored in &self.keys {
            let key = SigningKey::from_seed_b64(&stored.seed)
                .map_err(|_| anyhow::anyhow!("key {} has a malformed seed", stored.kid))?;
            if key.kid() != stored.kid {
                anyhow::bail!(
                    "key {} does not match its seed (kid {})",
                    stored.kid,
                    key.kid()
                );
            }
            let mut public = key.public_key().clone();
            match stored.retired_at {
                None => signing = Some(key),
                Some(at) => {
                    public.valid_until = Some(
                        at.saturating_add(token_lifetime_secs)
                            .saturating_add(leeway_secs),
                    )
                }
            }
            verifying.push(public);
        }
        let signing = signing
            .ok_or_else(|| anyhow::anyhow!("no current key (run `latchkey keys generate`)"))?;
        Ok(LoadedKeys { signing, verifying })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_retires_the_old_key_and_prunes_only_what_no_token_needs() {
        let mut file = KeyFile::default();
        let first = file.rotate(1_000).unwrap();
        let second = file.rotate(2_000).unwrap();
        let loaded = file.load(900, 30).unwrap();
        assert_eq!(loaded.signing.kid(), second);
        let old = loaded.verifying.iter().find(|k| k.kid == first).unwrap();
        assert_eq!(old.valid_until, Some(2_000 + 900 + 30));

        // A day and a minute after its retirement the first key is gone for good.
        let third = file.rotate(2_000 + 24 * 3600 + 61).unwrap();
        let kids: Vec<_> = file.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, [second.as_str(), third.as_str()]);
    }

    #[test]
    fn a_tampered_file_is_refused() {
        let mut file = KeyFile::default();
        file.rotate(1).unwrap();
        file.keys[0].kid = "someone-else".into();
        assert!(file.load(900, 30).is_err());
        assert!(KeyFile::default().load(900, 30).is_err());
    }
}
