//! The Ed25519 keys file: where EdDSA signing keys are kept between restarts.
//!
//! The file is JSON, readable by its owner only, replaced atomically on every change. Each
//! key has the second it starts signing (`activeFrom`); the newest active key signs, and a
//! key stops signing when the next one activates. Rotation is two-phase: `latchkey keys
//! generate` adds a key that activates later (an hour by default), so every instance
//! restarted in between, and every edge verifier refreshing the JWKS, knows the key before
//! any token carries it. An old key keeps verifying (and stays in the JWKS) until the last
//! token it signed has expired; keys past that are pruned at the next rotation.

use std::path::Path;

use latchkey_core::keys::{PublicKey, SigningKey};
use latchkey_core::{AccessTokens, random};
use serde::{Deserialize, Serialize};

use crate::files::replace_private;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KeyFile {
    pub keys: Vec<StoredKey>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredKey {
    pub kid: String,
    /// The private seed, base64url. This is the secret; `Debug` never shows it.
    pub seed: String,
    /// Unix seconds.
    pub created_at: i64,
    /// From this second on, this key signs (until a newer key activates).
    pub active_from: i64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("active_from", &self.active_from)
            .finish_non_exhaustive()
    }
}

/// The keys a server signs and verifies with.
pub struct LoadedKeys {
    /// Each private key with the second it starts signing.
    pub signers: Vec<(SigningKey, i64)>,
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

    /// Adds a fresh key that starts signing `activate_in` seconds after `now` (at once if it
    /// is the first key), prunes keys no token can still need, and returns the new key's id.
    pub fn rotate(&mut self, now: i64, activate_in: i64) -> anyhow::Result<String> {
        self.keys.sort_by_key(|k| k.active_from);
        // A key stops signing when the next one activates; its tokens live at most a day
        // (plus leeway) after that, whatever the configured lifetime. Sorted by activation,
        // the keys no token can need are a prefix: one per successor active that long ago.
        let longest = AccessTokens::MAX_LIFETIME_SECS + AccessTokens::MAX_LEEWAY_SECS;
        let unneeded = self
            .keys
            .iter()
            .skip(1)
            .filter(|next| next.active_from.saturating_add(longest) < now)
            .count();
        self.keys.drain(..unneeded);
        let key = SigningKey::from_seed(random::bytes::<32>()?);
        let kid = key.kid().to_owned();
        let active_from = if self.keys.is_empty() {
            now
        } else {
            now.saturating_add(activate_in.max(0))
        };
        self.keys.push(StoredKey {
            kid: kid.clone(),
            seed: key.seed_b64(),
            created_at: now,
            active_from,
        });
        Ok(kid)
    }

    /// Every key, each verifying until `token_lifetime + leeway` after its successor
    /// activates (the current key, forever).
    pub fn load(&self, token_lifetime_secs: i64, leeway_secs: i64) -> anyhow::Result<LoadedKeys> {
        let mut stored = self.keys.clone();
        stored.sort_by_key(|k| k.active_from);
        let mut signers = Vec::new();
        let mut verifying = Vec::new();
        for (i, entry) in stored.iter().enumerate() {
            let key = SigningKey::from_seed_b64(&entry.seed)
                .map_err(|_| anyhow::anyhow!("key {} has a malformed seed", entry.kid))?;
            if key.kid() != entry.kid {
                anyhow::bail!(
                    "key {} does not match its seed (kid {})",
                    entry.kid,
                    key.kid()
                );
            }
            let mut public = key.public_key().clone();
            public.valid_until = stored.get(i + 1).map(|next| {
                next.active_from
                    .saturating_add(token_lifetime_secs)
                    .saturating_add(leeway_secs)
            });
            verifying.push(public);
            signers.push((key, entry.active_from));
        }
        if signers.is_empty() {
            anyhow::bail!("no key (run `latchkey keys generate`)");
        }
        Ok(LoadedKeys { signers, verifying })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_activates_later_and_the_old_one_verifies_until_its_tokens_expire() {
        let mut file = KeyFile::default();
        let first = file.rotate(1_000, 3_600).unwrap();
        assert_eq!(
            file.keys[0].active_from, 1_000,
            "the first key signs at once"
        );
        let second = file.rotate(2_000, 3_600).unwrap();
        assert_eq!(file.keys[1].active_from, 5_600);
        let loaded = file.load(900, 30).unwrap();
        let old = loaded.verifying.iter().find(|k| k.kid == first).unwrap();
        assert_eq!(old.valid_until, Some(5_600 + 900 + 30));
        let new = loaded.verifying.iter().find(|k| k.kid == second).unwrap();
        assert_eq!(new.valid_until, None);

        // A day and a minute after it stopped signing, the first key is gone for good.
        let third = file.rotate(5_600 + 24 * 3600 + 61, 0).unwrap();
        let kids: Vec<_> = file.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, [second.as_str(), third.as_str()]);
    }

    #[test]
    fn a_tampered_file_is_refused_and_seeds_never_print() {
        let mut file = KeyFile::default();
        file.rotate(1, 0).unwrap();
        assert!(!format!("{file:?}").contains(&file.keys[0].seed));
        file.keys[0].kid = "someone-else".into();
        assert!(file.load(900, 30).is_err());
        assert!(KeyFile::default().load(900, 30).is_err());
    }
}
