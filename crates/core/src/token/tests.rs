use super::*;

#[derive(Deserialize)]
struct Vectors {
    secret: String,
    issuer: String,
    audience: String,
    leeway: i64,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    token: String,
    now: i64,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Ok { sub: String, sid: String },
    Error(String),
}

fn vectors() -> Vectors {
    let raw = include_str!("../../../../tests/vectors/tokens.json");
    serde_json::from_str(raw).expect("tokens.json parses")
}

fn tokens_for(v: &Vectors) -> AccessTokens {
    let secret = Secret::parse(v.secret.as_bytes()).unwrap();
    AccessTokens::new(&secret, &v.issuer, &v.audience).with_leeway(v.leeway)
}

#[test]
fn every_shared_vector_gives_its_expected_answer() {
    let v = vectors();
    let tokens = tokens_for(&v);
    assert!(v.cases.len() > 40);
    let mut failures = Vec::new();
    for case in &v.cases {
        let got = tokens.verify(&case.token, case.now);
        let matches = match (&case.expect, &got) {
            (Expect::Ok { sub, sid }, Ok(claims)) => &claims.sub == sub && &claims.sid == sid,
            (Expect::Error(code), Err(e)) => e.code() == code,
            _ => false,
        };
        if !matches {
            failures.push(format!("{}: got {:?}", case.name, got.map(|c| c.sub)));
        }
    }
    assert!(
        failures.is_empty(),
        "failed vectors:\n{}",
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct AssessCase {
    name: String,
    #[serde(rename = "tokenCase")]
    token_case: Option<String>,
    now: i64,
    margin: i64,
    expect: AssessExpect,
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum AssessExpect {
    Valid,
    Refresh { claims: bool },
    Refuse { error: String },
}

#[test]
fn every_assess_vector_gives_its_expected_action() {
    #[derive(Deserialize)]
    struct File {
        cases: Vec<AssessCase>,
    }
    let v = vectors();
    let tokens = tokens_for(&v);
    let file: File =
        serde_json::from_str(include_str!("../../../../tests/vectors/assess.json")).unwrap();
    let mut failures = Vec::new();
    for case in &file.cases {
        let token = case.token_case.as_ref().map(|name| {
            let named = v.cases.iter().find(|c| &c.name == name);
            named
                .unwrap_or_else(|| panic!("{}: no token case {name}", case.name))
                .token
                .as_str()
        });
        let got = tokens.assess(token, case.now, case.margin);
        let matches = match (&case.expect, &got) {
            (AssessExpect::Valid, Assessment::Valid(_)) => true,
            (AssessExpect::Refresh { claims }, Assessment::Refresh(c)) => c.is_some() == *claims,
            (AssessExpect::Refuse { error }, Assessment::Refuse(e)) => e.code() == error,
            _ => false,
        };
        if !matches {
            failures.push(format!("{}: got {got:?}", case.name));
        }
    }
    assert!(file.cases.len() >= 10);
    assert!(failures.is_empty(), "failed:\n{}", failures.join("\n"));
}

fn subject() -> TokenSubject<'static> {
    TokenSubject {
        user_id: "u-1",
        session_id: "s-1",
        email: "ann@example.com",
        email_verified: true,
    }
}

fn tokens() -> AccessTokens {
    let secret = Secret::parse("unit-test-secret-0123456789abcdefghijkl").unwrap();
    AccessTokens::new(&secret, "latchkey", "my-app")
}

#[test]
fn an_issued_token_verifies_and_carries_every_claim() {
    let t = tokens();
    let (token, issued) = t.issue(&subject(), 1_000, "jti-9").unwrap();
    let claims = t.verify(&token, 1_000).unwrap();
    assert_eq!(claims, issued);
    assert_eq!(claims.exp - claims.iat, 15 * 60);
    assert_eq!(
        (claims.iss.as_str(), claims.aud.as_str()),
        ("latchkey", "my-app")
    );
    assert!(claims.email_verified);
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
}

/// The `jsonwebtoken` crate, an independent implementation, accepts our HS256 tokens.
#[test]
fn jsonwebtoken_verifies_an_issued_hs256_token() {
    let (token, issued) = tokens().issue(&subject(), 1_000, "j").unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_exp = false;
    validation.set_audience(&["my-app"]);
    let key = jsonwebtoken::DecodingKey::from_secret(b"unit-test-secret-0123456789abcdefghijkl");
    let data = jsonwebtoken::decode::<AccessClaims>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims, issued);
}

#[test]
fn expiry_is_judged_by_the_callers_clock_with_leeway() {
    let t = tokens().with_lifetime(60).with_leeway(10);
    let (token, _) = t.issue(&subject(), 1_000, "j").unwrap();
    assert!(t.verify(&token, 1_070).is_ok());
    assert_eq!(t.verify(&token, 1_071), Err(Error::TokenExpired));
    assert_eq!(t.verify(&token, 989), Err(Error::TokenNotYetValid));
}

#[test]
fn leeway_is_capped_at_sixty_seconds() {
    let t = tokens().with_lifetime(60).with_leeway(3_600);
    let (token, _) = t.issue(&subject(), 1_000, "j").unwrap();
    assert!(t.verify(&token, 1_120).is_ok());
    assert_eq!(t.verify(&token, 1_121), Err(Error::TokenExpired));
}

#[test]
fn flipping_any_single_bit_of_a_token_is_refused() {
    let t = tokens();
    let (token, _) = t.issue(&subject(), 1_000, "j").unwrap();
    let bytes = token.as_bytes();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut mutated = bytes.to_vec();
            mutated[i] ^= 1 << bit;
            // Some flips make invalid UTF-8: those could never arrive as a &str at all.
            let Ok(s) = String::from_utf8(mutated) else {
                continue;
            };
            // base64url's last character carries spare bits; flipping those changes nothing
            // the signature covers only if the decoded bytes are identical, so compare bytes.
            if decode_equivalent(&s, &token) {
                continue;
            }
            assert!(
                t.verify(&s, 1_000).is_err(),
                "accepted a mutation at byte {i} bit {bit}"
            );
        }
    }
}

/// True when `a` decodes to exactly the same three segments as `b` (a non-canonical
/// base64url spelling of the same bytes).
fn decode_equivalent(a: &str, b: &str) -> bool {
    let decode = |t: &str| -> Option<Vec<Vec<u8>>> {
        t.split('.')
            .map(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .collect()
    };
    matches!((decode(a), decode(b)), (Some(x), Some(y)) if x == y)
}

/// A token for `tokens()`'s secret, signed by hand (hmac + sha2) under `header`, as written.
fn hand_signed(header: &str) -> String {
    use hmac::{Hmac, Mac};
    let secret = "unit-test-secret-0123456789abcdefghijkl";
    let header = URL_SAFE_NO_PAD.encode(header);
    let payload = URL_SAFE_NO_PAD.encode(
        serde_json::json!({
            "iss": "latchkey", "aud": "my-app", "sub": "u-7", "sid": "s-7",
            "email": "bo@example.com", "email_verified": false,
            "iat": 1_000, "nbf": 1_000, "exp": 1_900, "jti": "x"
        })
        .to_string(),
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{header}.{payload}").as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{sig}")
}

#[test]
fn a_token_from_a_hand_rolled_hmac_signer_is_accepted() {
    let token = hand_signed(r#"{"typ":"at+jwt","alg":"HS256"}"#);
    assert_eq!(tokens().verify(&token, 1_500).unwrap().sub, "u-7");
}

#[test]
fn a_header_naming_a_member_twice_is_refused_even_when_correctly_signed() {
    for header in [
        r#"{"alg":"none","typ":"at+jwt","alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"at+jwt","alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"at+jwt","typ":"at+jwt"}"#,
    ] {
        assert_eq!(
            tokens().verify(&hand_signed(header), 1_500),
            Err(Error::MalformedToken)
        );
    }
}

#[test]
fn an_absurd_clock_is_an_error_not_a_panic() {
    assert_eq!(
        tokens().issue(&subject(), i64::MAX, "j").unwrap_err(),
        Error::Internal
    );
    let (token, _) = tokens().issue(&subject(), 1_000, "j").unwrap();
    assert!(tokens().verify(&token, i64::MAX).is_err());
    assert!(tokens().verify(&token, i64::MIN).is_err());
}

#[test]
fn decode_unverified_reads_claims_but_refuses_garbage() {
    let (token, _) = tokens().issue(&subject(), 1_000, "j").unwrap();
    let claims = decode_unverified(&token).unwrap();
    assert_eq!(claims["sub"], "u-1");
    assert_eq!(decode_unverified("a.b"), Err(Error::MalformedToken));
    assert_eq!(decode_unverified("a.b.c"), Err(Error::MalformedToken));
}

mod eddsa {
    use super::*;
    use crate::keys::{Jwks, SigningKey};

    fn signer(seed: u8) -> SigningKey {
        SigningKey::from_seed([seed; 32])
    }

    #[derive(Deserialize)]
    struct JwksVectors {
        issuer: String,
        audience: String,
        leeway: i64,
        jwks: String,
        cases: Vec<Case>,
        jwt_cases: Vec<JwtCase>,
        documents: Vec<Document>,
    }

    #[derive(Deserialize)]
    struct JwtCase {
        name: String,
        token: String,
        now: i64,
        expect: JwtExpect,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum JwtExpect {
        Ok { sub: String },
        Error(String),
    }

    #[derive(Deserialize)]
    struct Document {
        name: String,
        jwks: String,
        expect: DocumentExpect,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum DocumentExpect {
        Keys(usize),
        Error(String),
    }

    #[test]
    fn every_jwks_vector_gives_its_expected_answer() {
        let raw = include_str!("../../../../tests/vectors/jwks.json");
        let v: JwksVectors = serde_json::from_str(raw).unwrap();
        let keys = Jwks::parse(&v.jwks).unwrap();
        let tokens = AccessTokens::eddsa(&[], keys, &v.issuer, &v.audience).with_leeway(v.leeway);
        let mut failures = Vec::new();
        for case in &v.cases {
            let got = tokens.verify(&case.token, case.now);
            let matches = match (&case.expect, &got) {
                (Expect::Ok { sub, sid }, Ok(c)) => &c.sub == sub && &c.sid == sid,
                (Expect::Error(code), Err(e)) => e.code() == code,
                _ => false,
            };
            if !matches {
                failures.push(format!("{}: got {:?}", case.name, got.map(|c| c.sub)));
            }
        }
        for case in &v.jwt_cases {
            let got = tokens.verify_jwt(&case.token, case.now);
            let matches = match (&case.expect, &got) {
                (JwtExpect::Ok { sub }, Ok(c)) => c["sub"] == sub.as_str(),
                (JwtExpect::Error(code), Err(e)) => e.code() == code,
                _ => false,
            };
            if !matches {
                failures.push(format!(
                    "jwt {}: got {:?}",
                    case.name,
                    got.map(|c| c["sub"].clone())
                ));
            }
        }
        for doc in &v.documents {
            let got = Jwks::parse(&doc.jwks);
            let matches = match (&doc.expect, &got) {
                (DocumentExpect::Keys(n), Ok(keys)) => keys.len() == *n,
                (DocumentExpect::Error(code), Err(e)) => e.code() == code,
                _ => false,
            };
            if !matches {
                failures.push(format!("{}: got {:?}", doc.name, got.map(|k| k.len())));
            }
        }
        assert!(v.cases.len() >= 10 && v.jwt_cases.len() >= 10 && v.documents.len() >= 5);
        assert!(failures.is_empty(), "failed:\n{}", failures.join("\n"));
    }

    fn eddsa_tokens(key: &SigningKey) -> AccessTokens {
        AccessTokens::eddsa(&[(key.clone(), 0)], [], "latchkey", "my-app")
    }

    #[test]
    fn an_eddsa_token_names_its_key_and_verifies_from_the_jwks_alone() {
        let key = signer(7);
        let t = eddsa_tokens(&key);
        let (token, issued) = t.issue(&subject(), 1_000, "j").unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(key.kid()));

        // The `jsonwebtoken` crate, an independent implementation, accepts it from the JWKS.
        let doc = serde_json::to_string(&Jwks::publish(t.public_keys(1_000), 1_000)).unwrap();
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&doc).unwrap();
        let jwk = set.find(key.kid()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.set_audience(&["my-app"]);
        let decoding = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let data = jsonwebtoken::decode::<AccessClaims>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims, issued);

        let edge = AccessTokens::eddsa(&[], Jwks::parse(&doc).unwrap(), "latchkey", "my-app");
        assert_eq!(edge.verify(&token, 1_000), Ok(issued));
        assert_eq!(
            edge.issue(&subject(), 1_000, "j").unwrap_err(),
            Error::InvalidKey
        );
    }

    #[test]
    fn a_token_from_another_key_or_without_a_kid_is_refused() {
        let (token, _) = eddsa_tokens(&signer(1))
            .issue(&subject(), 1_000, "j")
            .unwrap();
        assert_eq!(
            eddsa_tokens(&signer(2)).verify(&token, 1_000),
            Err(Error::UnknownKey)
        );
        // Same key, kid removed from the header: the signature would match, the lookup not.
        let (_, payload, sig) = split_compact(&token).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"at+jwt"}"#);
        let no_kid = format!("{header}.{payload}.{sig}");
        assert_eq!(
            eddsa_tokens(&signer(1)).verify(&no_kid, 1_000),
            Err(Error::UnknownKey)
        );
    }

    #[test]
    fn a_retired_key_verifies_until_its_valid_until_then_not() {
        let old = signer(1);
        let (token, _) = eddsa_tokens(&old).issue(&subject(), 1_000, "j").unwrap();
        let mut retired = old.public_key().clone();
        retired.valid_until = Some(1_000 + 900 + 30);
        let rotated = AccessTokens::eddsa(&[(signer(2), 0)], [retired], "latchkey", "my-app");
        assert!(rotated.verify(&token, 1_930).is_ok());
        assert_eq!(rotated.verify(&token, 1_931), Err(Error::UnknownKey));
        assert_eq!(rotated.public_keys(1_931).len(), 1);
        assert_eq!(rotated.public_keys(1_000).len(), 2);
    }

    /// Key confusion: an attacker who knows the public key MACs an HS256 token with it.
    #[test]
    fn an_hs256_token_maced_with_the_public_key_is_refused() {
        use hmac::{Hmac, Mac};
        let key = signer(9);
        let t = eddsa_tokens(&key);
        let header = URL_SAFE_NO_PAD.encode(
            format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, key.kid()).as_bytes(),
        );
        let payload = URL_SAFE_NO_PAD.encode(
            serde_json::json!({
                "iss": "latchkey", "aud": "my-app", "sub": "admin", "sid": "s",
                "email": "x@example.com", "email_verified": true,
                "iat": 1_000, "nbf": 1_000, "exp": 1_900, "jti": "x"
            })
            .to_string(),
        );
        let jwk_x = key.public_key().to_jwk().x;
        for mac_key in [key.public_key().x.to_vec(), jwk_x.into_bytes()] {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&mac_key).unwrap();
            mac.update(format!("{header}.{payload}").as_bytes());
            let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
            assert_eq!(
                t.verify(&format!("{header}.{payload}.{sig}"), 1_500),
                Err(Error::UnsupportedAlgorithm)
            );
        }
    }

    /// A new key is published first and signs only from its activation second on.
    #[test]
    fn the_newest_active_key_signs() {
        let (old, new) = (signer(1), signer(2));
        let t = AccessTokens::eddsa(
            &[(new.clone(), 2_000), (old.clone(), 0)],
            [],
            "latchkey",
            "my-app",
        );
        let kid_at = |now| {
            let (token, _) = t.issue(&subject(), now, "j").unwrap();
            jsonwebtoken::decode_header(&token).unwrap().kid.unwrap()
        };
        assert_eq!(kid_at(1_999), old.kid());
        assert_eq!(kid_at(2_000), new.kid());
        assert_eq!(t.public_keys(0).len(), 2, "both published from the start");
        let only_future = AccessTokens::eddsa(&[(new, 2_000)], [], "latchkey", "my-app");
        assert_eq!(
            only_future.issue(&subject(), 1_000, "j").unwrap_err(),
            Error::InvalidKey
        );
    }

    #[test]
    fn an_hs256_instance_refuses_eddsa_tokens_and_publishes_no_keys() {
        let (token, _) = eddsa_tokens(&signer(3))
            .issue(&subject(), 1_000, "j")
            .unwrap();
        assert_eq!(
            tokens().verify(&token, 1_000),
            Err(Error::UnsupportedAlgorithm)
        );
        assert!(tokens().public_keys(1_000).is_empty());
    }
}
