//! Ed25519 signing keys and the JWKS document that publishes their public halves.
//!
//! The keys Latchkey makes are named by their RFC 7638 thumbprint, so the same public key
//! always has the same id wherever it is computed. A JWKS document from another issuer
//! (Better Auth's JWT plugin names its keys with random ids) keeps the ids it gives: a token's
//! `kid` is matched exactly, and a document that names two keys alike is refused, so one id
//! can never answer for two keys. The reader accepts only Ed25519 (`OKP`/`Ed25519`) signing
//! keys: an edge verifier must never be talked into another algorithm by the document it
//! fetched.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// The largest JWKS document read, and the most keys taken from it: no work scales with
/// what a misconfigured or hostile endpoint sends.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
pub const MAX_KEYS: usize = 16;
/// The longest `kid` read from a document: real ones are under 100 bytes.
pub const MAX_KID_BYTES: usize = 256;

/// An Ed25519 private key. `Debug` never shows the seed.
#[derive(Clone)]
pub struct SigningKey {
    seed: [u8; 32],
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key whose private seed is `seed` (32 random bytes drawn by the caller).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let x = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        SigningKey {
            seed,
            public: PublicKey::new(x),
        }
    }

    /// Reads a seed stored as base64url.
    pub fn from_seed_b64(seed: &str) -> Result<Self, Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(seed.trim())
            .map_err(|_| Error::InvalidKey)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidKey)?;
        Ok(Self::from_seed(seed))
    }

    /// The seed as base64url, for the key file. Handle like a password.
    pub fn seed_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.seed)
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn dalek(&self) -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&self.seed)
    }
}

/// An Ed25519 public key with its id and, once retired, the last second it may verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub x: [u8; 32],
    /// `None` while current; set to (retired at + token lifetime + leeway) once rotated out,
    /// so tokens it signed keep verifying until they expire, and not a second longer.
    pub valid_until: Option<i64>,
}

impl PublicKey {
    /// The key `x`, named by its thumbprint.
    pub fn new(x: [u8; 32]) -> Self {
        Self::named(x, thumbprint(&x))
    }

    /// The key `x` under the id a JWKS document gave it.
    pub fn named(x: [u8; 32], kid: String) -> Self {
        PublicKey {
            kid,
            x,
            valid_until: None,
        }
    }

    pub fn is_valid_at(&self, now: i64) -> bool {
        self.valid_until.is_none_or(|until| now <= until)
    }

    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(self.x),
            kid: Some(self.kid.clone()),
            alg: Some("EdDSA".into()),
            key_use: Some("sig".into()),
        }
    }
}

/// One entry of a JWKS document (RFC 7517), as far as Ed25519 needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub crv: String,
    #[serde(default)]
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}

/// A JWKS document: `{"keys": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The document publishing `keys` that are valid at `now`.
    pub fn publish<'a>(keys: impl IntoIterator<Item = &'a PublicKey>, now: i64) -> Jwks {
        Jwks {
            keys: keys
                .into_iter()
                .filter(|k| k.is_valid_at(now))
                .map(PublicKey::to_jwk)
                .collect(),
        }
    }

    /// Reads the Ed25519 signing keys of a JWKS document. Entries of other types, or meant
    /// for encryption or another algorithm, are skipped. A key keeps the `kid` the document
    /// gives it (its thumbprint when it has none). An Ed25519 entry with a bad `x` or a `kid`
    /// over [`MAX_KID_BYTES`], two keys under one `kid`, an oversized document or more than
    /// [`MAX_KEYS`] usable keys is [`Error::InvalidKey`].
    pub fn parse(json: &str) -> Result<Vec<PublicKey>, Error> {
        if json.len() > MAX_JWKS_BYTES {
            return Err(Error::InvalidKey);
        }
        let doc: Jwks = serde_json::from_str(json).map_err(|_| Error::InvalidKey)?;
        let mut keys = Vec::new();
        for jwk in doc.keys {
            let usable = jwk.kty == "OKP"
                && jwk.crv == "Ed25519"
                && jwk.alg.as_deref().is_none_or(|a| a == "EdDSA")
                && jwk.key_use.as_deref().is_none_or(|u| u == "sig");
            if !usable {
                continue;
            }
            let x: [u8; 32] = URL_SAFE_NO_PAD
                .decode(&jwk.x)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(Error::InvalidKey)?;
            // An x that is not a point on the curve could never verify a signature.
            ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|_| Error::InvalidKey)?;
            let kid = match jwk.kid {
                Some(kid) if kid.is_empty() || kid.len() > MAX_KID_BYTES => {
                    return Err(Error::InvalidKey);
                }
                Some(kid) => kid,
                None => thumbprint(&x),
            };
            // Two keys under one id would let a token's kid pick either: refuse the document
            // rather than guess which one its issuer meant.
            if keys.iter().any(|k: &PublicKey| k.kid == kid) {
                return Err(Error::InvalidKey);
            }
            keys.push(PublicKey::named(x, kid));
        }
        if keys.len() > MAX_KEYS {
            return Err(Error::InvalidKey);
        }
        Ok(keys)
    }
}

/// RFC 7638 thumbprint of an Ed25519 key: SHA-256 over the canonical JSON of its required
/// members, base64url.
fn thumbprint(x: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(x)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 appendix A.1–A.3: the example key, its public half and its thumbprint.
    #[test]
    fn the_rfc_8037_example_key_gives_its_published_x_and_thumbprint() {
        let seed = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let key = SigningKey::from_seed(seed.try_into().unwrap());
        assert_eq!(
            key.public_key().to_jwk().x,
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn a_published_document_reads_back_to_the_same_keys() {
        let a = SigningKey::from_seed([1; 32]).public_key().clone();
        let mut b = SigningKey::from_seed([2; 32]).public_key().clone();
        b.valid_until = Some(100);
        let doc = serde_json::to_string(&Jwks::publish([&a, &b], 50)).unwrap();
        let read = Jwks::parse(&doc).unwrap();
        assert_eq!(
            read.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            [&a.kid, &b.kid]
        );
        // After b's last valid second it is no longer published.
        assert_eq!(Jwks::publish([&a, &b], 101).keys.len(), 1);
    }

    #[test]
    fn other_key_types_are_skipped_and_bad_ed25519_entries_refused() {
        let good = SigningKey::from_seed([3; 32]).public_key().to_jwk();
        let rsa = r#"{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"}"#;
        let enc = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","use":"enc"}}"#,
            good.x
        );
        let hs = r#"{"kty":"oct","k":"c2VjcmV0"}"#;
        let doc = format!(
            r#"{{"keys":[{rsa},{enc},{hs},{}]}}"#,
            serde_json::to_string(&good).unwrap()
        );
        assert_eq!(Jwks::parse(&doc).unwrap().len(), 1);

        let short_x = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#;
        let other = SigningKey::from_seed([4; 32]).public_key().to_jwk();
        let same_kid = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":"k"}},{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":"k"}}]}}"#,
            good.x, other.x
        );
        let long_kid = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":"{}"}}]}}"#,
            good.x,
            "k".repeat(MAX_KID_BYTES + 1)
        );
        let empty_kid = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":""}}]}}"#,
            good.x
        );
        for bad in [
            short_x,
            same_kid.as_str(),
            long_kid.as_str(),
            empty_kid.as_str(),
            "not json",
            "{}",
            "[]",
        ] {
            assert_eq!(Jwks::parse(bad), Err(Error::InvalidKey), "{bad}");
        }
        let huge = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(MAX_JWKS_BYTES));
        assert_eq!(Jwks::parse(&huge), Err(Error::InvalidKey));
    }

    #[test]
    fn another_issuers_kid_is_kept_as_given() {
        let good = SigningKey::from_seed([3; 32]).public_key().to_jwk();
        // Better Auth's JWT plugin names its keys with random ids.
        let doc = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{}","kid":"Jd2xQ0m1Vb","alg":"EdDSA"}}]}}"#,
            good.x
        );
        let keys = Jwks::parse(&doc).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid, "Jd2xQ0m1Vb");
        assert_eq!(URL_SAFE_NO_PAD.encode(keys[0].x), good.x);
    }
}
