//! Property tests: every parser and verifier in the core answers arbitrary input with a value
//! (usually an error), never a panic — in WebAssembly a panic is a crash — and no mutation of
//! a valid token is ever accepted.

use latchkey_core::token::decode_unverified;
use latchkey_core::{AccessTokens, Email, PasswordPolicy, Secret, TokenSubject};
use proptest::prelude::*;

fn tokens() -> AccessTokens {
    let secret = Secret::parse("property-test-secret-0123456789abcdef").unwrap();
    AccessTokens::new(&secret, "latchkey", "my-app")
}

fn valid_token() -> String {
    let subject = TokenSubject {
        user_id: "u-1",
        session_id: "s-1",
        email: "ann@example.com",
        email_verified: false,
    };
    tokens().issue(&subject, 1_000, "j").unwrap().0
}

/// Three dot-separated base64url-looking segments: the shape that gets past the cheap checks.
fn jwt_shaped() -> impl Strategy<Value = String> {
    let segment = "[A-Za-z0-9_-]{1,400}";
    (segment, segment, segment).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn verify_never_panics_on_any_string(input in any::<String>(), now in any::<i64>()) {
        let _ = tokens().verify(&input, now);
        let _ = decode_unverified(&input);
    }

    #[test]
    fn verify_never_accepts_a_jwt_shaped_string_it_did_not_sign(input in jwt_shaped()) {
        prop_assert!(tokens().verify(&input, 1_000).is_err());
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
}
