//! Access tokens: short-lived JWTs with `typ: at+jwt` (RFC 9068), HS256 or EdDSA.
//!
//! Verification is deliberately stricter than a JWT library's defaults, and small enough to
//! read in one sitting: compact form only, bounded size, a header naming exactly the pinned
//! algorithm and carrying no key material or key references; then the signature (HMAC-SHA256
//! compared in constant time, or Ed25519 with `verify_strict`), then the claims, with expiry
//! and not-before judged against the caller's `now`, so the logic never reads a clock.
//!
//! There is no JWT library underneath on purpose: the two algorithms take a few lines each
//! over `hmac` and `ed25519-dalek`, nothing else can be reached by a crafted header, and the
//! WebAssembly build does not carry RSA and NIST-curve code it would never run. Tests check
//! the tokens against independent implementations (the `jsonwebtoken` crate, PyJWT, and
//! hand-built forgeries in `tests/vectors/`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::keys::{PublicKey, SigningKey};
use crate::{Error, Secret};

/// The claims of a Latchkey access token. Every one is required on verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    #[serde(deserialize_with = "one_audience")]
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// The session's id; the server refuses the token once this session is revoked.
    pub sid: String,
    pub email: String,
    pub email_verified: bool,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// Who a token is issued to.
#[derive(Debug, Clone)]
pub struct TokenSubject<'a> {
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub email: &'a str,
    pub email_verified: bool,
}

/// The keys tokens are signed and verified with: one algorithm per instance, never both.
#[derive(Clone)]
enum Keys {
    /// The HMAC state keyed once; each use clones it.
    Hs256(Hmac<Sha256>),
    EdDsa {
        /// (active from, kid, private key), oldest first: a token issued at `now` is signed
        /// by the newest key already active. Empty for a verify-only instance.
        signing: Vec<(i64, String, ed25519_dalek::SigningKey)>,
        /// Every key a token may name, the signing ones included.
        public: Vec<(PublicKey, ed25519_dalek::VerifyingKey)>,
    },
}

/// The protected header of the tokens Latchkey issues.
#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// Issues and verifies access tokens under one HS256 secret or a set of Ed25519 keys.
#[derive(Clone)]
pub struct AccessTokens {
    keys: Keys,
    issuer: String,
    audience: String,
    lifetime_secs: i64,
    leeway_secs: i64,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("algorithm", &self.algorithm())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime_secs", &self.lifetime_secs)
            .field("leeway_secs", &self.leeway_secs)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    pub const DEFAULT_LIFETIME_SECS: i64 = 15 * 60;
    /// Access tokens cannot be revoked at the edge, so they must stay short-lived.
    pub const MAX_LIFETIME_SECS: i64 = 24 * 3600;
    pub const DEFAULT_LEEWAY_SECS: i64 = 30;
    pub const MAX_LEEWAY_SECS: i64 = 60;
    /// The largest decoded header accepted; real headers are under 100 bytes.
    pub const MAX_HEADER_BYTES: usize = 8 * 1024;
    /// The largest token accepted at all, so no work scales with an attacker's input.
    pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
    pub const TYP: &'static str = "at+jwt";

    /// HS256 under a shared secret (the default, and what the seeds' apps use).
    pub fn new(secret: &Secret, issuer: &str, audience: &str) -> Self {
        // HMAC takes a key of any length; `Secret` already guarantees at least 32 bytes.
        let mac = Hmac::<Sha256>::new_from_slice(secret.expose())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        Self::with_keys(Keys::Hs256(mac), issuer, audience)
    }

    /// EdDSA (Ed25519). `signers` are private keys with the second each starts signing
    /// from; a token is signed by the newest one already active, so a new key can be
    /// published (in `public` and the JWKS) before it signs anything. Tokens naming any of
    /// `public` by `kid` verify; each signer's public half is added if missing. With no
    /// signers the instance only verifies, as an edge verifier fed a JWKS does.
    pub fn eddsa(
        signers: &[(SigningKey, i64)],
        public: impl IntoIterator<Item = PublicKey>,
        issuer: &str,
        audience: &str,
    ) -> Self {
        let mut keys: Vec<PublicKey> = public.into_iter().collect();
        for (signer, _) in signers {
            if !keys.iter().any(|k| k.kid == signer.kid()) {
                keys.push(signer.public_key().clone());
            }
        }
        let mut signing: Vec<(i64, String, ed25519_dalek::SigningKey)> = signers
            .iter()
            .map(|(k, from)| (*from, k.kid().to_owned(), k.dalek()))
            .collect();
        signing.sort_by_key(|(from, _, _)| *from);
        // A point that is not on the curve can verify nothing; `Jwks::parse` refuses such
        // keys already, so here they are only dropped.
        let public = keys
            .into_iter()
            .filter_map(|k| {
                let verifying = ed25519_dalek::VerifyingKey::from_bytes(&k.x).ok()?;
                Some((k, verifying))
            })
            .collect();
        Self::with_keys(Keys::EdDsa { signing, public }, issuer, audience)
    }

    fn with_keys(keys: Keys, issuer: &str, audience: &str) -> Self {
        AccessTokens {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            lifetime_secs: Self::DEFAULT_LIFETIME_SECS,
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
        }
    }

    /// `"HS256"` or `"EdDSA"`.
    pub fn algorithm(&self) -> &'static str {
        match self.keys {
            Keys::Hs256(_) => "HS256",
            Keys::EdDsa { .. } => "EdDSA",
        }
    }

    /// The public keys that verify tokens at `now` (none for HS256), for a JWKS document.
    pub fn public_keys(&self, now: i64) -> Vec<&PublicKey> {
        match &self.keys {
            Keys::Hs256(_) => Vec::new(),
            Keys::EdDsa { public, .. } => public
                .iter()
                .map(|(k, _)| k)
                .filter(|k| k.is_valid_at(now))
                .collect(),
        }
    }

    /// Sets the lifetime of issued tokens, clamped to one second … one day.
    pub fn with_lifetime(mut self, secs: i64) -> Self {
        self.lifetime_secs = secs.clamp(1, Self::MAX_LIFETIME_SECS);
        self
    }

    /// Sets the clock-skew leeway, capped at [`Self::MAX_LEEWAY_SECS`].
    pub fn with_leeway(mut self, secs: i64) -> Self {
        self.leeway_secs = secs.clamp(0, Self::MAX_LEEWAY_SECS);
        self
    }

    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_secs
    }

    /// Issues a token for `subject` at `now` (Unix seconds) with the given unique `jti`.
    pub fn issue(
        &self,
        subject: &TokenSubject<'_>,
        now: i64,
        jti: &str,
    ) -> Result<(String, AccessClaims), Error> {
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject.user_id.to_owned(),
            sid: subject.session_id.to_owned(),
            email: subject.email.to_owned(),
            email_verified: subject.email_verified,
            iat: now,
            nbf: now,
            // An absurd `now` must be an error, not an overflow panic.
            exp: now.checked_add(self.lifetime_secs).ok_or(Error::Internal)?,
            jti: jti.to_owned(),
        };
        let token = match &self.keys {
            Keys::Hs256(mac) => {
                let header = Header {
                    alg: "HS256",
                    typ: Self::TYP,
                    kid: None,
                };
                let signed = signing_input(&to_json(&header)?, &to_json(&claims)?);
                let mut mac = mac.clone();
                mac.update(signed.as_bytes());
                with_signature(signed, &mac.finalize().into_bytes())
            }
            Keys::EdDsa { signing, .. } => {
                // No key active yet (or a verify-only instance): an error, not a panic.
                let (_, kid, key) = signing
                    .iter()
                    .rev()
                    .find(|(from, _, _)| *from <= now)
                    .ok_or(Error::InvalidKey)?;
                let header = Header {
                    alg: "EdDSA",
                    typ: Self::TYP,
                    kid: Some(kid),
                };
                let signed = signing_input(&to_json(&header)?, &to_json(&claims)?);
                let signature = key.sign(signed.as_bytes()).to_bytes();
                with_signature(signed, &signature)
            }
        };
        Ok((token, claims))
    }

    /// Verifies `token` at `now` (Unix seconds) and returns its claims.
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, Error> {
        let payload = self.signed_payload(token, now, Typ::Access)?;
        let claims: AccessClaims =
            serde_json::from_slice(&payload).map_err(|_| Error::InvalidClaims)?;
        if claims.iss != self.issuer || claims.aud != self.audience {
            return Err(Error::InvalidClaims);
        }
        self.check_times(claims.exp, Some(claims.nbf), Some(claims.iat), now)?;
        Ok(claims)
    }

    /// Verifies a JWT from another issuer at `now` and returns its claims as they are: for
    /// the weeks of a switch, when an app still meets tokens from the system it is leaving
    /// (Better Auth's JWT plugin signs EdDSA tokens with no `typ` and the user's fields as
    /// claims). The header is held to the same rules as an access token's except `typ`, which
    /// may also be absent or `JWT`; `iss` must be the issuer, `aud` (a string, or a list
    /// holding it) the audience, `sub` a non-empty string, and `exp` is required.
    pub fn verify_jwt(&self, token: &str, now: i64) -> Result<Map<String, Value>, Error> {
        let payload = self.signed_payload(token, now, Typ::AnyJwt)?;
        let UniqueMembers(claims) =
            serde_json::from_slice(&payload).map_err(|_| Error::InvalidClaims)?;
        let audience = match claims.get("aud") {
            Some(Value::String(aud)) => aud == &self.audience,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(&self.audience)),
            _ => false,
        };
        let issuer = claims.get("iss").and_then(Value::as_str) == Some(&self.issuer);
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .is_some_and(|sub| !sub.is_empty());
        if !(issuer && audience && subject) {
            return Err(Error::InvalidClaims);
        }
        let time = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(value) => numeric_date(value).map(Some).ok_or(Error::InvalidClaims),
        };
        let exp = time("exp")?.ok_or(Error::InvalidClaims)?;
        self.check_times(exp, time("nbf")?, time("iat")?, now)?;
        Ok(claims)
    }

    /// Checks the header and the signature, and only then returns the decoded payload.
    fn signed_payload(&self, token: &str, now: i64, typ: Typ) -> Result<Vec<u8>, Error> {
        let (header, payload, signature) = split_compact(token)?;
        let signed = &token[..header.len() + 1 + payload.len()];
        match &self.keys {
            Keys::Hs256(mac) => {
                check_header(header, "HS256", typ)?;
                let signature = decode_segment(signature)?;
                let mut mac = mac.clone();
                mac.update(signed.as_bytes());
                // `verify_slice` compares in constant time.
                mac.verify_slice(&signature)
                    .map_err(|_| Error::InvalidSignature)?;
            }
            Keys::EdDsa { public, .. } => {
                let kid = check_header(header, "EdDSA", typ)?.ok_or(Error::UnknownKey)?;
                let (_, key) = public
                    .iter()
                    .find(|(k, _)| k.kid == kid && k.is_valid_at(now))
                    .ok_or(Error::UnknownKey)?;
                let signature = decode_segment(signature)?;
                let signature = ed25519_dalek::Signature::from_slice(&signature)
                    .map_err(|_| Error::InvalidSignature)?;
                // Strict: refuses small-order keys and non-canonical signatures.
                key.verify_strict(signed.as_bytes(), &signature)
                    .map_err(|_| Error::InvalidSignature)?;
            }
        }
        // Only a correctly signed payload is parsed at all.
        decode_segment(payload)
    }

    /// Expiry and not-before (and issued-at, which cannot be in the future either), each
    /// with the leeway.
    fn check_times(
        &self,
        exp: i64,
        nbf: Option<i64>,
        iat: Option<i64>,
        now: i64,
    ) -> Result<(), Error> {
        if now > exp.saturating_add(self.leeway_secs) {
            return Err(Error::TokenExpired);
        }
        let early = |t: Option<i64>| t.is_some_and(|t| t > now.saturating_add(self.leeway_secs));
        if early(nbf) || early(iat) {
            return Err(Error::TokenNotYetValid);
        }
        Ok(())
    }
}

/// Which `typ` a header may carry.
#[derive(Clone, Copy)]
enum Typ {
    /// `at+jwt` only: a Latchkey access token.
    Access,
    /// `at+jwt`, `JWT` or none: another issuer's token, read with [`AccessTokens::verify_jwt`].
    AnyJwt,
}

/// A JWT NumericDate (RFC 7519 §2): seconds, possibly with a fraction, which is dropped.
fn numeric_date(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let secs = value.as_f64()?;
        // Casting clamps at i64's range; NaN cannot come out of JSON.
        (secs.is_finite()).then(|| secs.floor() as i64)
    })
}

/// What an edge verifier (the npm package's proxy helper) should do with the access token a
/// request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// Valid and not about to expire: let the request through.
    Valid(AccessClaims),
    /// Refresh first, if the request has a refresh token: the access token is missing, has
    /// expired, or expires within the margin (its still-valid claims then come along).
    Refresh(Option<AccessClaims>),
    /// Present but unacceptable (forged, malformed, for another audience…): the request is
    /// signed out. Refreshing here would let a bad cookie ride on a good one.
    Refuse(Error),
}

impl AccessTokens {
    /// Assesses the access token of a request at `now`: [`Assessment::Refresh`] once it
    /// expires within `margin_secs` (negative margins count as zero), so a request never
    /// starts with a token that dies on its way through the app.
    pub fn assess(&self, token: Option<&str>, now: i64, margin_secs: i64) -> Assessment {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Assessment::Refresh(None);
        };
        match self.verify(token, now) {
            Ok(claims) if claims.exp.saturating_sub(margin_secs.max(0)) <= now => {
                Assessment::Refresh(Some(claims))
            }
            Ok(claims) => Assessment::Valid(claims),
            Err(Error::TokenExpired) => Assessment::Refresh(None),
            Err(err) => Assessment::Refuse(err),
        }
    }
}

/// Reads a token's claims without checking anything — for display only, never for trust.
pub fn decode_unverified(token: &str) -> Result<Map<String, Value>, Error> {
    let (_, payload, _) = split_compact(token)?;
    serde_json::from_slice(&decode_segment(payload)?).map_err(|_| Error::MalformedToken)
}

/// The three segments of a compact JWS, each non-empty and in the base64url alphabet.
fn split_compact(token: &str) -> Result<(&str, &str, &str), Error> {
    if token.len() > AccessTokens::MAX_TOKEN_BYTES {
        return Err(Error::MalformedToken);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::MalformedToken);
    };
    let is_b64url = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !(is_b64url(header) && is_b64url(payload) && is_b64url(signature)) {
        return Err(Error::MalformedToken);
    }
    Ok((header, payload, signature))
}

/// `header.payload`, each part base64url-encoded JSON: the bytes a signature covers.
fn signing_input(header: &[u8], claims: &[u8]) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

fn with_signature(signed: String, signature: &[u8]) -> String {
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn decode_segment(segment: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| Error::MalformedToken)
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|_| Error::Internal)
}

/// Refuses a header that is oversized, names another algorithm than `pinned` (including any
/// spelling of `none`), embeds or points to a key, lists critical extensions, or is not an
/// access token's (or, for [`Typ::AnyJwt`], any JWT's). Returns the `kid`, if any.
fn check_header(header: &str, pinned: &str, typ: Typ) -> Result<Option<String>, Error> {
    // base64 expands by 4/3; checking the encoded length first bounds the decode itself.
    if header.len() > AccessTokens::MAX_HEADER_BYTES / 3 * 4 + 4 {
        return Err(Error::MalformedToken);
    }
    let bytes = decode_segment(header)?;
    if bytes.len() > AccessTokens::MAX_HEADER_BYTES {
        return Err(Error::MalformedToken);
    }
    let UniqueMembers(fields) =
        serde_json::from_slice(&bytes).map_err(|_| Error::MalformedToken)?;
    if fields.get("alg").and_then(Value::as_str) != Some(pinned) {
        return Err(Error::UnsupportedAlgorithm);
    }
    if ["jwk", "jku", "x5u", "x5c", "crit"]
        .iter()
        .any(|k| fields.contains_key(*k))
    {
        return Err(Error::ForbiddenTokenHeader);
    }
    let given = match fields.get("typ") {
        None => None,
        Some(Value::String(given)) => Some(given.strip_prefix("application/").unwrap_or(given)),
        Some(_) => return Err(Error::WrongTokenType),
    };
    let allowed = match (typ, given) {
        (_, Some(given)) if given.eq_ignore_ascii_case(AccessTokens::TYP) => true,
        (Typ::AnyJwt, None) => true,
        (Typ::AnyJwt, Some(given)) => given.eq_ignore_ascii_case("JWT"),
        (Typ::Access, _) => false,
    };
    if !allowed {
        return Err(Error::WrongTokenType);
    }
    match fields.get("kid") {
        None => Ok(None),
        Some(Value::String(kid)) => Ok(Some(kid.clone())),
        // A kid that is not a string is not a key we could ever have issued.
        Some(_) => Err(Error::UnknownKey),
    }
}

/// A JSON object whose member names are all different. RFC 7515 §4 lets a verifier refuse
/// duplicates, and it should: a header with two `alg` members says one thing to a parser that
/// keeps the first and another to one that keeps the last. (The claims are a struct, and
/// serde refuses a duplicated field there by itself.)
struct UniqueMembers(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueMembers {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = UniqueMembers;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<UniqueMembers, A::Error> {
                let mut members = Map::new();
                while let Some((name, value)) = access.next_entry::<String, Value>()? {
                    if members.insert(name, value).is_some() {
                        return Err(serde::de::Error::custom("a member name is repeated"));
                    }
                }
                Ok(UniqueMembers(members))
            }
        }
        de.deserialize_map(Members)
    }
}

/// `aud` may be a string or, per RFC 7519, an array; Latchkey's tokens have one audience.
fn one_audience<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    match Aud::deserialize(de)? {
        Aud::One(aud) => Ok(aud),
        Aud::Many(mut list) if list.len() == 1 => Ok(list.remove(0)),
        Aud::Many(_) => Err(serde::de::Error::custom("expected exactly one audience")),
    }
}

#[cfg(test)]
mod tests;
