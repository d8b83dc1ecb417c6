use serde::Deserialize;

use super::*;
use crate::csrf::{self, TrustedOrigins};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vectors {
    modes: Vec<ModeCase>,
    build: Vec<BuildCase>,
    clear: Vec<ClearCase>,
    read: Vec<ReadCase>,
    csrf: Vec<CsrfCase>,
    trusted_origins: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModeCase {
    public_url: String,
    mode: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BuildCase {
    mode: String,
    kind: String,
    value: String,
    max_age: i64,
    set_cookie: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClearCase {
    mode: String,
    kind: String,
    set_cookie: String,
}

#[derive(Deserialize)]
struct ReadCase {
    name: String,
    mode: String,
    kind: String,
    header: String,
    value: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CsrfCase {
    name: String,
    method: String,
    origin: Option<String>,
    sec_fetch_site: Option<String>,
    ok: bool,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../../../../tests/vectors/cookies.json")).unwrap()
}

fn mode(name: &str) -> Cookies {
    match name {
        "secure" => Cookies::SECURE,
        "localhost" => Cookies::LOCALHOST,
        other => panic!("unknown mode {other}"),
    }
}

fn kind(name: &str) -> CookieKind {
    match name {
        "access" => CookieKind::Access,
        "refresh" => CookieKind::Refresh,
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn the_public_url_decides_the_mode() {
    for case in vectors().modes {
        let got = Cookies::for_public_url(&case.public_url);
        match (&case.mode, &case.error) {
            (Some(m), None) => assert_eq!(got, Ok(mode(m)), "{}", case.public_url),
            (None, Some(code)) => {
                assert_eq!(
                    got.map_err(|e| e.code()),
                    Err(code.as_str()),
                    "{}",
                    case.public_url
                )
            }
            _ => panic!("bad case {}", case.public_url),
        }
    }
}

#[test]
fn set_cookie_lines_are_byte_exact() {
    for case in vectors().build {
        let got = mode(&case.mode).set(kind(&case.kind), &case.value, case.max_age);
        match (&case.set_cookie, &case.error) {
            (Some(line), None) => assert_eq!(got.as_deref(), Ok(line.as_str())),
            (None, Some(code)) => assert_eq!(got.map_err(|e| e.code()), Err(code.as_str())),
            _ => panic!("bad case {:?}", case.value),
        }
    }
    for case in vectors().clear {
        assert_eq!(mode(&case.mode).clear(kind(&case.kind)), case.set_cookie);
    }
}

#[test]
fn cookie_headers_are_read_as_the_vectors_say() {
    for case in vectors().read {
        let got = mode(&case.mode).read(&case.header, kind(&case.kind));
        match &case.error {
            None => assert_eq!(got, Ok(case.value.as_deref()), "{}", case.name),
            Some(code) => assert_eq!(
                got.map_err(|e| e.code()),
                Err(code.as_str()),
                "{}",
                case.name
            ),
        }
    }
}

#[test]
fn csrf_decisions_match_the_vectors() {
    let v = vectors();
    let trusted = TrustedOrigins::parse(v.trusted_origins.iter().map(String::as_str)).unwrap();
    for case in v.csrf {
        let got = csrf::check(
            &case.method,
            case.origin.as_deref(),
            case.sec_fetch_site.as_deref(),
            &trusted,
        );
        assert_eq!(got.is_ok(), case.ok, "{}", case.name);
        if !case.ok {
            assert_eq!(got, Err(Error::CsrfRejected));
        }
    }
}
