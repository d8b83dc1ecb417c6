//! Property tests over the request-facing parsers (`Authorization`, forwarding headers,
//! rate-limit rules), the opaque tokens (refresh and one-time), and access-token forgeries
//! that go beyond one changed byte: truncation, splicing, re-encoded claims and key confusion.
//!
//! `PROPTEST_CASES` sets the number of cases per property (the deep profile).

mod common;

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use latchkey_core::keys::SigningKey;
use latchkey_core::onetime::{self, OneTimeKey, Purpose};
use latchkey_core::ratelimit::Rule;
use latchkey_core::refresh::{self, RefreshKey};
use latchkey_core::{AccessTokens, Error, Secret, TokenSubject, bearer, client_ip};
use proptest::prelude::*;
use serde_json::Value;

use common::config;

const SECRET: &str = "property-test-secret-0123456789abcdef";

fn hs256() -> AccessTokens {
    AccessTokens::new(&Secret::parse(SECRET).unwrap(), "latchkey", "my-app")
}

fn signer() -> SigningKey {
    SigningKey::from_seed([7; 32])
}

fn eddsa() -> AccessTokens {
    AccessTokens::eddsa(&[(signer(), 0)], [], "latchkey", "my-app")
}

fn issued(tokens: &AccessTokens) -> String {
    let subject = TokenSubject {
        user_id: "u-1",
        session_id: "s-1",
        email: "ann@example.com",
        email_verified: true,
    };
    tokens.issue(&subject, 1_000, "j-1").unwrap().0
}

fn segments(token: &str) -> (Value, Value) {
    let json = |i: usize| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    (json(0), json(1))
}

/// Signs `header.claims` with HMAC-SHA256 under `key`, whatever the header claims.
fn hmac_signed(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The claim names an attacker would want to change, and values to change them to.
fn claim_edit() -> impl Strategy<Value = (&'static str, Value)> {
    let name = prop::sample::select(vec![
        "sub", "sid", "email", "iss", "aud", "exp", "nbf", "iat", "jti",
    ]);
    let value = prop_oneof![
        "[a-z0-9@.-]{0,20}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::Null),
    ];
    (name, value)
}

proptest! {
    #![proptest_config(config(2_000))]

    #[test]
    fn bearer_parsing_never_panics_and_takes_only_the_bearer_scheme(value in any::<String>()) {
        if let Ok(token) = bearer::bearer_token(&value) {
            let (scheme, rest) = value.split_once(' ').unwrap();
            prop_assert!(scheme.eq_ignore_ascii_case("bearer"));
            prop_assert_eq!(token, rest.trim());
        }
    }

    #[test]
    fn a_bearer_token_reads_back_whatever_the_scheme_case(
        scheme in "[bB][eE][aA][rR][eE][rR]", token in "[A-Za-z0-9._~+/=-]{1,200}", pad in " {0,3}",
    ) {
        let value = format!("{scheme} {pad}{token}{pad}");
        prop_assert_eq!(bearer::bearer_token(&value), Ok(token.as_str()));
        prop_assert_eq!(bearer::from_headers([Some(value.as_str())].into_iter()), Ok(Some(token.as_str())));
    }

    #[test]
    fn more_than_one_authorization_header_is_always_refused(
        values in prop::collection::vec(any::<Option<String>>(), 2..5),
    ) {
        let result = bearer::from_headers(values.iter().map(|v| v.as_deref()));
        prop_assert_eq!(result, Err(Error::MalformedToken));
    }

    #[test]
    fn opaque_token_shapes_never_panic_and_admit_only_256_bit_base64url(token in any::<String>()) {
        let shape_ok = refresh::check_shape(&token).is_ok();
        prop_assert_eq!(shape_ok, onetime::check_shape(&token).is_ok());
        if shape_ok {
            prop_assert_eq!(token.len(), refresh::TOKEN_LEN);
            prop_assert_eq!(URL_SAFE_NO_PAD.decode(&token).map(|b| b.len()), Ok(32));
        }
        prop_assert_eq!(refresh::hash(&token).len(), 64);
    }

    #[test]
    fn derived_tokens_have_the_shape_and_differ_for_any_other_input(
        id in "[a-z0-9-]{0,40}", seed in "[A-Za-z0-9_-]{0,43}", generation in any::<i64>(),
        other_id in "[a-z0-9-]{0,40}", other_seed in "[A-Za-z0-9_-]{0,43}", other_generation in any::<i64>(),
    ) {
        let key = RefreshKey::new(&Secret::parse(SECRET).unwrap());
        let token = key.token(&id, &seed, generation);
        prop_assert!(refresh::check_shape(&token).is_ok());
        if (&id, &seed, generation) != (&other_id, &other_seed, other_generation) {
            prop_assert_ne!(&token, &key.token(&other_id, &other_seed, other_generation));
        }
        let links = OneTimeKey::new(&Secret::parse(SECRET).unwrap());
        let mut seen = Vec::new();
        for purpose in Purpose::ALL {
            let link = links.token(&id, &seed, purpose);
            prop_assert!(onetime::check_shape(&link).is_ok());
            // One token, one purpose: a reset link is never also a verification link.
            prop_assert!(!seen.contains(&link) && link != token);
            seen.push(link);
        }
    }

    #[test]
    fn no_truncation_or_extension_of_a_token_is_accepted(
        cut in any::<prop::sample::Index>(), tail in "[A-Za-z0-9_.=-]{1,8}", eddsa_signed in any::<bool>(),
    ) {
        let tokens = if eddsa_signed { eddsa() } else { hs256() };
        let token = issued(&tokens);
        let shorter = &token[..cut.index(token.len())];
        prop_assert!(tokens.verify(shorter, 1_000).is_err());
        let longer = format!("{token}{tail}");
        prop_assert!(tokens.verify(&longer, 1_000).is_err(), "accepted {longer}");
    }

    #[test]
    fn changed_claims_under_the_original_signature_are_refused(
        (name, value) in claim_edit(), eddsa_signed in any::<bool>(),
    ) {
        let tokens = if eddsa_signed { eddsa() } else { hs256() };
        let token = issued(&tokens);
        let (_, mut claims) = segments(&token);
        prop_assume!(claims[name] != value);
        claims[name] = value;
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            parts[2]
        );
        prop_assert!(tokens.verify(&forged, 1_000).is_err());
    }

    #[test]
    fn hs256_signed_with_any_public_material_is_refused_by_either_verifier(
        claims_edit in claim_edit(), key_choice in 0usize..4, typ in prop::sample::select(vec!["at+jwt", "JWT"]),
    ) {
        // Key confusion: an attacker knows the Ed25519 public key (it is in the JWKS) and
        // signs HS256 with it, as bytes or as any text form, hoping for an HMAC check.
        let public = signer().public_key().to_jwk();
        let x = public.x.clone();
        let raw = URL_SAFE_NO_PAD.decode(&x).unwrap();
        let key: Vec<u8> = match key_choice {
            0 => raw,
            1 => x.into_bytes(),
            2 => serde_json::to_vec(&public).unwrap(),
            _ => SECRET.as_bytes().to_vec(),
        };
        let (_, mut claims) = segments(&issued(&eddsa()));
        claims[claims_edit.0] = claims_edit.1;
        let header = serde_json::json!({ "alg": "HS256", "typ": typ, "kid": signer().kid() });
        let forged = hmac_signed(&header, &claims, &key);
        prop_assert!(eddsa().verify(&forged, 1_000).is_err());
        if key_choice != 3 {
            prop_assert!(hs256().verify(&forged, 1_000).is_err());
        }
    }

    #[test]
    fn alg_none_and_unknown_algorithms_are_refused_in_any_spelling(
        alg in "[nN][oO][nN][eE]|[hH][sS](256|384|512)|[eE][dD][dD][sS][aA]|[rRpPeE][sS](256|384|512)|",
        signature in "[A-Za-z0-9_-]{1,86}", eddsa_signed in any::<bool>(),
    ) {
        let tokens = if eddsa_signed { eddsa() } else { hs256() };
        let real = issued(&tokens);
        let (mut header, claims) = segments(&real);
        if header["alg"] == alg.as_str() {
            return Ok(()); // the real algorithm, correctly spelled: not a forgery
        }
        header["alg"] = Value::from(alg.as_str());
        let forged = format!(
            "{}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // Refused for the algorithm, before any signature is looked at.
        prop_assert_eq!(tokens.verify(&forged, 1_000), Err(Error::UnsupportedAlgorithm));
    }

    #[test]
    fn forwarding_headers_never_panic_and_an_untrusted_peer_is_the_answer(
        forwarded_for in prop::collection::vec(any::<String>(), 0..3),
        forwarded in prop::collection::vec(any::<String>(), 0..3),
        peer in any::<IpAddr>(),
        proxies in prop::collection::vec("[0-9a-f.:/]{0,20}", 0..3),
    ) {
        let ff: Vec<&str> = forwarded_for.iter().map(String::as_str).collect();
        let fw: Vec<&str> = forwarded.iter().map(String::as_str).collect();
        let untrusted = client_ip::TrustedProxies::none();
        prop_assert_eq!(client_ip::resolve(peer, &ff, &fw, &untrusted), peer.to_canonical());
        if let Ok(trusted) = client_ip::TrustedProxies::parse(proxies.iter().map(String::as_str)) {
            let ip = client_ip::resolve(peer, &ff, &fw, &trusted);
            let _ = client_ip::bucket(ip);
        }
    }

    #[test]
    fn rate_limit_rules_never_panic(text in any::<String>(), shaped in "[0-9]{1,12}/[0-9]{1,8}(ms|s|m|h|d)?") {
        let _ = Rule::parse(&text);
        if let Ok(rule) = Rule::parse(&shaped) {
            let _ = rule.window(i64::MAX);
            let _ = rule.window(i64::MIN);
        }
    }
}
