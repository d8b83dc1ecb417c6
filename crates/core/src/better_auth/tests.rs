//! Better Auth's cookies against the vectors the real Better Auth generated.

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    secret: String,
    signed: Vec<Signed>,
    clear: Vec<Clear>,
    read: Vec<Read>,
    bad_prefixes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Signed {
    name: String,
    cookie: String,
    token: Option<String>,
    better_auth_reads: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Clear {
    cookie_name: String,
    domain: Option<String>,
    set_cookie: String,
}

#[derive(Deserialize)]
struct Read {
    name: String,
    prefix: String,
    secure: bool,
    header: String,
    value: Option<String>,
    names: Vec<String>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!(
        "../../../../tests/vectors/better-auth-cookies.json"
    ))
    .unwrap()
}

#[test]
fn the_hash_is_sha256_in_lower_case_hex() {
    // `printf abc | sha256sum`
    assert_eq!(
        session_token_hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn signed_cookies_read_as_better_auth_wrote_them() {
    let v = vectors();
    let mut divergent = 0;
    for case in &v.signed {
        let got = signed_session_token(&case.cookie, v.secret.as_bytes());
        match &case.token {
            Some(token) => assert_eq!(got.as_ref(), Ok(token), "{}", case.name),
            None => assert_eq!(got, Err(Error::InvalidImportedSession), "{}", case.name),
        }
        // Where Better Auth's own reader found a token, we find the same or refuse; we
        // never accept what it refused.
        let theirs = case
            .better_auth_reads
            .as_ref()
            .filter(|read| *read != "bad_signature");
        if case.token.as_ref() != theirs {
            assert!(case.token.is_none(), "{}", case.name);
            divergent += 1;
        }
    }
    assert!(v.signed.len() >= 15, "every case ran");
    assert_eq!(divergent, 1, "only the non-canonical signature differs");
}

#[test]
fn the_right_cookie_under_another_secret_is_refused() {
    let v = vectors();
    let valid = v.signed.iter().find(|c| c.token.is_some()).unwrap();
    assert!(signed_session_token(&valid.cookie, v.secret.as_bytes()).is_ok());
    let mut other = v.secret.clone().into_bytes();
    other[0] ^= 1;
    assert_eq!(
        signed_session_token(&valid.cookie, &other),
        Err(Error::InvalidImportedSession)
    );
    assert!(signed_session_token(&valid.cookie, b"").is_err());
}

#[test]
fn odd_values_are_refused_without_a_panic() {
    let secret = b"s";
    let long = "a".repeat(MAX_COOKIE_LEN + 1);
    for value in [
        "%",
        "%E",
        "%ff.%ff",
        "é.é",
        ".",
        "..",
        "a.====================================b===",
        "%C3%A9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        long.as_str(),
    ] {
        assert_eq!(
            signed_session_token(value, secret),
            Err(Error::InvalidImportedSession),
            "{value}"
        );
    }
}

#[test]
fn decoding_follows_decode_uri_component() {
    assert_eq!(decode_uri_component("a%2Bb%3D").as_deref(), Some("a+b="));
    assert_eq!(decode_uri_component("%C3%A9").as_deref(), Some("é"));
    assert_eq!(decode_uri_component("plain").as_deref(), Some("plain"));
    // A lone surrogate, a truncated escape, a non-hex escape: JavaScript throws URIError.
    for bad in ["%ED%A0%80", "%E", "%ZZ", "%"] {
        assert_eq!(decode_uri_component(bad), None, "{bad}");
    }
}

#[test]
fn clearing_lines_are_better_auths_own() {
    for case in vectors().clear {
        let cookies =
            SessionCookies::new(DEFAULT_COOKIE_PREFIX, case.domain.as_deref(), false).unwrap();
        assert_eq!(
            cookies.clear(&case.cookie_name).as_deref(),
            Ok(case.set_cookie.as_str())
        );
    }
    let cookies = SessionCookies::new(DEFAULT_COOKIE_PREFIX, None, false).unwrap();
    assert!(cookies.clear("latchkey.rt").is_err());
}

#[test]
fn the_cookies_of_a_request_are_found_as_the_vectors_say() {
    for case in vectors().read {
        let cookies = SessionCookies::new(&case.prefix, None, case.secure).unwrap();
        let found = cookies.find(&case.header);
        assert_eq!(found.value, case.value.as_deref(), "{}", case.name);
        assert_eq!(found.names, case.names, "{}", case.name);
    }
}

#[test]
fn a_prefix_that_cannot_be_a_cookie_name_is_refused() {
    for prefix in vectors().bad_prefixes {
        assert_eq!(
            SessionCookies::new(&prefix, None, false).map_err(|e| e.code()),
            Err("invalid_request"),
            "{prefix:?}"
        );
    }
    assert!(SessionCookies::new("better-auth", Some("a;b"), true).is_err());
    let acme = SessionCookies::new("acme", Some(""), false).unwrap();
    assert_eq!(
        acme.names(),
        ["acme.session_token", "__Secure-acme.session_token"]
    );
}
