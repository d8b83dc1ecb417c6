//! Access-token verification, natively, under criterion: the same two tokens (from
//! tests/vectors) that `pkg/bench/verify.mjs` gives the wasm package and `jose`, so
//! `scripts/bench` can set the three side by side.
//!
//!     cargo bench -p latchkey-core --bench verify

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use latchkey_core::keys::Jwks;
use latchkey_core::{AccessTokens, Secret};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/../../tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The named case's token and verification time.
fn case<'a>(set: &'a Value, name: &str) -> (&'a str, i64) {
    let case = set["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no case {name:?}"));
    (
        case["token"].as_str().unwrap(),
        case["now"].as_i64().unwrap(),
    )
}

fn verify(c: &mut Criterion) {
    let hs = vectors("tokens.json");
    let str_of = |v: &Value, key: &str| v[key].as_str().unwrap().to_owned();
    let secret = Secret::parse(str_of(&hs, "secret")).unwrap();
    let hs256 = AccessTokens::new(&secret, &str_of(&hs, "issuer"), &str_of(&hs, "audience"))
        .with_leeway(30);
    let (token, now) = case(&hs, "a valid token");
    hs256.verify(token, now).expect("the HS256 vector verifies");
    c.bench_function("HS256", |b| b.iter(|| hs256.verify(black_box(token), now)));

    let ed = vectors("jwks.json");
    let keys = Jwks::parse(&str_of(&ed, "jwks")).unwrap();
    let eddsa = AccessTokens::eddsa(&[], keys, &str_of(&ed, "issuer"), &str_of(&ed, "audience"))
        .with_leeway(30);
    let (token, now) = case(&ed, "signed by the first published key");
    eddsa.verify(token, now).expect("the EdDSA vector verifies");
    c.bench_function("EdDSA", |b| b.iter(|| eddsa.verify(black_box(token), now)));
}

criterion_group!(benches, verify);
criterion_main!(benches);
