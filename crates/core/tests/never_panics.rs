//! Property tests: every parser and verifier in the core answers arbitrary input with a value
//! (usually an error), never a panic — in WebAssembly a panic is a crash — and no mutation of
//! a valid token is ever accepted.

mod common;

use latchkey_core::token::decode_unverified;
use latchkey_core::{AccessTokens, Email, PasswordPolicy, Secret, TokenSubject};
use proptest::prelude::*;

fn tokens() -> AccessTokens {
    let secret = Secret::parse("property-test-secret-0123456789abcdef").unwrap();
    AccessTokens::new(&secret, "latchkey", "my-app")
}

fn subject() -> TokenSubject<'static> {
    TokenSubject {
        user_id: "u-1",
        session_id: "s-1",
        email: "ann@example.com",
        email_verified: false,
    }
}

fn valid_token() -> String {
    tokens().issue(&subject(), 1_000, "j").unwrap().0
}

/// Three dot-separated base64url-looking segments: the shape that gets past the cheap checks.
fn jwt_shaped() -> impl Strategy<Value = String> {
    let segment = "[A-Za-z0-9_-]{1,400}";
    (segment, segment, segment).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

proptest! {
    #![proptest_config(crate::common::config(2_000))]

    #[test]
    fn verify_never_panics_on_any_string(input in any::<String>(), now in any::<i64>()) {
        let _ = tokens().verify(&input, now);
        let _ = tokens().verify_jwt(&input, now);
        let _ = decode_unverified(&input);
    }

    #[test]
    fn verify_never_accepts_a_jwt_shaped_string_it_did_not_sign(input in jwt_shaped()) {
        prop_assert!(tokens().verify(&input, 1_000).is_err());
        prop_assert!(tokens().verify_jwt(&input, 1_000).is_err());
    }

    #[test]
    fn no_single_byte_change_of_a_valid_token_is_accepted(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let token = valid_token();
        let mut bytes = token.into_bytes();
        let i = at.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        if let Ok(mutated) = String::from_utf8(bytes) {
            prop_assert!(tokens().verify(&mutated, 1_000).is_err(), "accepted {mutated}");
        }
    }

    #[test]
    fn email_parse_never_panics_and_its_output_is_stable(input in any::<String>()) {
        if let Ok(email) = Email::parse(&input) {
            prop_assert!(email.as_str().len() <= Email::MAX_LEN);
            prop_assert!(!email.as_str().chars().any(char::is_control));
            // Parsing a parsed address changes nothing.
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email);
        }
    }

    #[test]
    fn the_password_policy_never_panics(password in any::<String>(), min in 8usize..=128) {
        let policy = PasswordPolicy::new(min).unwrap();
        let email = Email::parse("ann@example.com").unwrap();
        let _ = policy.check(&password, &email);
    }

    #[test]
    fn phc_verification_never_panics(stored in any::<String>(), password in any::<String>()) {
        let _ = latchkey_core::hash::verify_password(&password, &stored);
    }

    #[test]
    fn phc_shaped_strings_never_panic(m in any::<u32>(), t in any::<u32>(), p in any::<u32>(),
                                      salt in "[A-Za-z0-9+/]{0,30}", out in "[A-Za-z0-9+/]{0,60}") {
        // Large parameters must be refused before any work; keep the ones that would run cheap.
        prop_assume!(u64::from(m) * u64::from(t) <= 4096 || m > 256 * 1024 || t > 16 || p > 16);
        let stored = format!("$argon2id$v=19$m={m},t={t},p={p}${salt}${out}");
        let _ = latchkey_core::hash::verify_password("pw", &stored);
    }

    #[test]
    fn bcrypt_shaped_strings_never_panic(prefix in "\\$2[abxy]\\$", cost in "[0-9+ ]{2}",
                                         rest in "[./A-Za-z0-9é]{50,54}", password in any::<String>()) {
        // Costs up to 14 run when the rest happens to be valid: keep the cheap ones.
        prop_assume!(cost.trim_start_matches(['0', '+', ' ']).parse::<u32>().map_or(true, |c| c <= 6 || c > 14));
        let stored = format!("{prefix}{cost}${rest}");
        let _ = latchkey_core::hash::verify_password(&password, &stored);
    }

    #[test]
    fn scrypt_shaped_strings_never_panic(ln in any::<u8>(), r in any::<u32>(), p in any::<u32>(),
                                         salt in "[A-Za-z0-9+/]{0,30}", digest in "[A-Za-z0-9+/]{0,60}") {
        let cheap = ln < 64 && (1u128 << ln) * u128::from(r) * u128::from(p) <= 1 << 12;
        // Anything dearer that the limits admit would run: skip those.
        let well_formed = format!("$scrypt$ln={ln},r={r},p={p}$${}", "A".repeat(43));
        prop_assume!(cheap || latchkey_core::hash::work(&well_formed).is_err());
        let stored = format!("$scrypt$ln={ln},r={r},p={p}${salt}${digest}");
        let _ = latchkey_core::hash::verify_password("pw", &stored);
    }

    #[test]
    fn better_auth_shaped_strings_are_read_without_panicking(salt in "[0-9a-fA-F:]{0,70}", key in "[0-9a-fA-F:]{0,140}") {
        // Reading only: a well-formed one costs Better Auth's whole scrypt to verify.
        let _ = latchkey_core::hash::identify(&format!("{salt}:{key}"));
    }
}

mod sessions {
    use latchkey_core::AccessTokens;
    use latchkey_core::cookie::{CookieKind, Cookies};
    use latchkey_core::csrf::{self, TrustedOrigins};
    use latchkey_core::keys::{Jwks, SigningKey};
    use latchkey_core::refresh::{self, PresentedToken, RefreshPolicy, SessionState};
    use proptest::prelude::*;

    fn eddsa() -> AccessTokens {
        AccessTokens::eddsa(
            &[(SigningKey::from_seed([5; 32]), 0)],
            [],
            "latchkey",
            "my-app",
        )
    }

    fn eddsa_token() -> String {
        eddsa().issue(&super::subject(), 1_000, "j").unwrap().0
    }

    proptest! {
        #![proptest_config(crate::common::config(2_000))]

        #[test]
        fn cookie_reading_never_panics_and_only_returns_token_characters(header in any::<String>()) {
            for mode in [Cookies::SECURE, Cookies::LOCALHOST] {
                for kind in [CookieKind::Access, CookieKind::Refresh] {
                    if let Ok(Some(value)) = mode.read(&header, kind) {
                        prop_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
                    }
                    // Whatever is built is a single, well-formed header line.
                    if let Ok(line) = mode.set(kind, &header, 60) {
                        prop_assert!(!line.contains(['\r', '\n']));
                    }
                }
            }
            let _ = Cookies::for_public_url(&header);
        }

        #[test]
        fn csrf_never_panics_and_never_trusts_an_unlisted_origin(
            method in "[A-Za-z]{0,8}", origin in any::<Option<String>>(), site in any::<Option<String>>(),
        ) {
            let trusted = TrustedOrigins::parse(["https://app.example.com"]).unwrap();
            let ok = csrf::check(&method, origin.as_deref(), site.as_deref(), &trusted).is_ok();
            if ok && csrf::is_state_changing(&method) {
                match origin.as_deref() {
                    Some(o) => prop_assert!(o.trim().eq_ignore_ascii_case("https://app.example.com")),
                    None => prop_assert!(site.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("same-origin"))),
                }
            }
            let _ = TrustedOrigins::parse(origin.as_deref());
        }

        #[test]
        fn refresh_shapes_and_decisions_never_panic(
            token in any::<String>(), g in any::<i64>(), tg in any::<i64>(), spent in any::<Option<i64>>(),
            revoked in any::<bool>(), exp in any::<i64>(), abs in any::<i64>(), now in any::<i64>(),
            idle in any::<i64>(), grace in any::<i64>(),
        ) {
            let _ = refresh::check_shape(&token);
            let session = SessionState { generation: g, revoked, expires_at_ms: exp, absolute_expires_at_ms: abs };
            let presented = PresentedToken { generation: tg, spent_at_ms: spent };
            let policy = RefreshPolicy { idle_ms: idle, absolute_ms: abs, grace_ms: grace };
            if let Ok(refresh::Decision::Rotate { generation, expires_at_ms }) = refresh::decide(&session, &presented, now, &policy) {
                // Only the live token rotates, one step, and never past the absolute end.
                prop_assert_eq!(generation, g + 1);
                prop_assert!(expires_at_ms <= abs);
            }
        }

        #[test]
        fn jwks_parsing_never_panics(doc in any::<String>(), x in "[A-Za-z0-9_-]{0,60}") {
            let _ = Jwks::parse(&doc);
            let _ = Jwks::parse(&format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}]}}"#));
        }

        #[test]
        fn no_single_byte_change_of_an_eddsa_token_is_accepted(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let token = eddsa_token();
            let mut bytes = token.clone().into_bytes();
            let i = at.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            if let Ok(mutated) = String::from_utf8(bytes) {
                // A flip of base64url's spare trailing bits decodes to the same bytes; skip those.
                prop_assume!(!same_segments(&mutated, &token));
                prop_assert!(eddsa().verify(&mutated, 1_000).is_err());
                prop_assert!(eddsa().verify_jwt(&mutated, 1_000).is_err());
            }
        }
    }

    fn same_segments(a: &str, b: &str) -> bool {
        use base64::Engine;
        let decode = |t: &str| -> Option<Vec<Vec<u8>>> {
            t.split('.')
                .map(|s| {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(s)
                        .ok()
                })
                .collect()
        };
        matches!((decode(a), decode(b)), (Some(x), Some(y)) if x == y)
    }
}

mod bridge {
    use std::net::IpAddr;

    use latchkey_core::Secret;
    use latchkey_core::bridge::{self, BridgeKey};
    use proptest::prelude::*;

    const NOW: i64 = 1_798_761_600;

    fn key() -> BridgeKey {
        BridgeKey::new(&Secret::parse("property-test-secret-0123456789abcdef").unwrap())
    }

    proptest! {
        #![proptest_config(crate::common::config(2_000))]

        #[test]
        fn attestation_verify_never_panics(header in any::<String>(), now in any::<i64>()) {
            let _ = bridge::verify(&key(), &header, now);
        }

        #[test]
        fn an_attestation_shaped_string_it_did_not_sign_is_refused(
            ip in any::<IpAddr>(), secs in 0i64..=999_999_999_999, mac in "[A-Za-z0-9_-]{43}",
        ) {
            let header = format!("{};{secs};{mac}", ip.to_canonical());
            prop_assert!(bridge::verify(&key(), &header, secs).is_err());
        }

        #[test]
        fn every_address_round_trips_and_no_single_byte_change_is_accepted(
            ip in any::<IpAddr>(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
        ) {
            let header = bridge::attest(&key(), ip, NOW);
            prop_assert_eq!(bridge::verify(&key(), &header, NOW), Ok(ip.to_canonical()));
            let mut bytes = header.clone().into_bytes();
            let i = at.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            if let Ok(mutated) = String::from_utf8(bytes) {
                prop_assert!(bridge::verify(&key(), &mutated, NOW).is_err(), "accepted {mutated}");
            }
        }

        #[test]
        fn reading_the_platform_header_never_panics(values in any::<Vec<String>>(), hops in any::<usize>()) {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let _ = bridge::client_from_header(&values, hops);
        }
    }
}
