//! Every case in `tests/vectors/foreign-hashes.json`, run natively: hashes made by Python's
//! `bcrypt` (4 and 5), passlib and Better Auth's `hashPassword`, with the answers those
//! libraries gave, and the hashes Latchkey refuses without running them. (The wasm package
//! does not hash passwords: feature `hashing` is native-only.)

use latchkey_core::hash::{self, DEFAULT_COST, Scheme};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    hash: String,
    password: String,
    /// `true`, `false`, or the error code of a hash refused as stored data.
    expect: Value,
    scheme: Option<String>,
}

fn vectors() -> Vec<Case> {
    let raw = include_str!("../../../tests/vectors/foreign-hashes.json");
    serde_json::from_str::<Vectors>(raw).unwrap().cases
}

fn scheme(name: &str) -> Scheme {
    match name {
        "bcrypt" => Scheme::Bcrypt,
        "scrypt" => Scheme::Scrypt,
        "argon2id" => Scheme::Argon2id,
        other => panic!("no scheme {other}"),
    }
}

#[test]
fn every_foreign_hash_answers_as_the_library_that_made_it() {
    let cases = vectors();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for case in &cases {
        let verdict = hash::verify_password(&case.password, &case.hash);
        match &case.expect {
            Value::Bool(expected) => {
                assert_eq!(verdict, Ok(*expected), "{}", case.name);
                let scheme = scheme(case.scheme.as_deref().unwrap());
                assert_eq!(hash::identify(&case.hash), Ok(scheme), "{}", case.name);
                assert!(
                    hash::needs_rehash(&case.hash, DEFAULT_COST),
                    "{}",
                    case.name
                );
            }
            Value::String(code) => {
                let error = verdict.unwrap_err();
                assert_eq!(error.code(), code, "{}", case.name);
                assert_eq!(hash::identify(&case.hash), Err(error), "{}", case.name);
            }
            other => panic!("{}: expect {other}", case.name),
        }
    }
}

#[test]
fn refused_hashes_are_refused_without_being_run() {
    // Every refusal together, including bcrypt cost 31 and scrypt N = 2^30: any one of them
    // run would take seconds at least; parsing them all takes microseconds.
    let started = std::time::Instant::now();
    let refused = vectors()
        .into_iter()
        .filter(|c| c.expect.is_string())
        .inspect(|c| assert!(hash::verify_password(&c.password, &c.hash).is_err()))
        .count();
    assert!(refused >= 10);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
}
