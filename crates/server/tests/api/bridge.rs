//! The client address the Next.js bridge vouches for (`Latchkey-Client-Address`): a valid
//! attestation decides the address, whoever the peer is; a forged, stale, replayed-late,
//! doubled or wrong-key one is ignored and the usual rules apply.

use latchkey_core::Secret;
use latchkey_core::bridge::{self, BridgeKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, SECRET, TestApp, tokens_of};
use crate::limits::{assert_limited, limited};

const WRONG: &str = "not the password!";

/// The bridge's key: drawn from the secret the server and the app share.
fn key() -> BridgeKey {
    BridgeKey::new(&Secret::parse(SECRET).unwrap())
}

fn attested(app: &TestApp, ip: &str, offset_secs: i64) -> String {
    let now = app.clock_ms().div_euclid(1000) + offset_secs;
    bridge::attest(&key(), ip.parse().unwrap(), now)
}

async fn client_ip_with(app: &TestApp, headers: &[(&str, &str)]) -> Value {
    let mut req = app.client.get(app.url("/readyz"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body: Value = req.send().await.unwrap().json().await.unwrap();
    body["clientIp"].clone()
}

async fn sign_in_attested(
    app: &TestApp,
    header: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/signin"))
        .header(bridge::HEADER, header)
        // What a browser might add to fool a bridge that passed headers on.
        .header("x-forwarded-for", "203.0.113.250")
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_valid_attestation_decides_the_client_address_even_from_an_untrusted_peer() {
    let app = TestApp::sqlite().await;
    let header = attested(&app, "198.51.100.7", 0);
    assert_eq!(
        client_ip_with(&app, &[(bridge::HEADER, &header)]).await,
        "198.51.100.7"
    );
    let v6 = attested(&app, "2001:db8:1:2::5", 0);
    assert_eq!(
        client_ip_with(&app, &[(bridge::HEADER, &v6)]).await,
        "2001:db8:1:2::5"
    );
    // Within a minute either way of the server's clock.
    for offset in [-60, 60] {
        let header = attested(&app, "198.51.100.8", offset);
        assert_eq!(
            client_ip_with(&app, &[(bridge::HEADER, &header)]).await,
            "198.51.100.8"
        );
    }
}

#[tokio::test]
async fn a_forged_stale_doubled_or_wrong_key_attestation_is_ignored() {
    let app = TestApp::sqlite().await;
    let good = attested(&app, "198.51.100.7", 0);
    let mac = good.rsplit(';').next().unwrap().to_owned();
    let now = app.clock_ms().div_euclid(1000);
    let other = BridgeKey::new(&Secret::parse("some-other-secret-0123456789abcdef-0123").unwrap());
    for bad in [
        "198.51.100.7".to_owned(),
        format!("198.51.100.9;{now};{mac}"),
        format!("198.51.100.7;{};{mac}", now + 1),
        attested(&app, "198.51.100.7", -61),
        attested(&app, "198.51.100.7", 61),
        bridge::attest(&other, "198.51.100.7".parse().unwrap(), now),
        format!("{good};x"),
        "garbage;;".to_owned(),
    ] {
        assert_eq!(
            client_ip_with(&app, &[(bridge::HEADER, &bad)]).await,
            "127.0.0.1",
            "{bad}"
        );
    }
    // An attestation seen once is only good for a minute: replayed later, it is stale.
    app.advance_secs(61);
    assert_eq!(
        client_ip_with(&app, &[(bridge::HEADER, &good)]).await,
        "127.0.0.1"
    );
    // Two copies: neither is believed.
    let fresh = attested(&app, "198.51.100.7", 0);
    let res = app
        .client
        .get(app.url("/readyz"))
        .header(bridge::HEADER, &fresh)
        .header(bridge::HEADER, attested(&app, "198.51.100.8", 0))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["clientIp"], "127.0.0.1");
}

#[tokio::test]
async fn behind_a_trusted_proxy_a_bad_attestation_falls_back_to_the_forwarding_rules() {
    let app = limited(TestApp::sqlite().await, |_| {}).await;
    let forged = format!("198.51.100.9;{};{}", app.clock_ms() / 1000, "A".repeat(43));
    let ip = client_ip_with(
        &app,
        &[
            (bridge::HEADER, &forged),
            ("x-forwarded-for", "203.0.113.4"),
        ],
    )
    .await;
    assert_eq!(ip, "203.0.113.4");
    // A valid one wins over the forwarding header.
    let good = attested(&app, "198.51.100.7", 0);
    let ip = client_ip_with(
        &app,
        &[(bridge::HEADER, &good), ("x-forwarded-for", "203.0.113.4")],
    )
    .await;
    assert_eq!(ip, "198.51.100.7");
}

#[tokio::test]
async fn attested_clients_are_counted_apart_and_ipv6_by_64() {
    let app = limited(TestApp::sqlite().await, |s| s.proxies.trusted = Vec::new()).await;
    for i in 0..5 {
        let res = sign_in_attested(
            &app,
            &attested(&app, "198.51.100.7", 0),
            &format!("g{i}@example.com"),
            WRONG,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(
        sign_in_attested(
            &app,
            &attested(&app, "198.51.100.7", 0),
            "x@example.com",
            WRONG,
        )
        .await,
    )
    .await;
    // Another client behind the same bridge still gets an answer of its own.
    let other = sign_in_attested(
        &app,
        &attested(&app, "198.51.100.8", 0),
        "x@example.com",
        WRONG,
    )
    .await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    // And requests with no attestation (the bridge's own address) are a third bucket.
    let plain = app.sign_in("y@example.com", WRONG).await;
    assert_eq!(plain.status(), StatusCode::UNAUTHORIZED);
    // One /64 is one client, attested or not.
    for i in 0..5 {
        let ip = format!("2001:db8:1:2::{i:x}");
        let res = sign_in_attested(
            &app,
            &attested(&app, &ip, 0),
            &format!("v{i}@example.com"),
            WRONG,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let same64 = attested(&app, "2001:db8:1:2:ffff::1", 0);
    assert_limited(sign_in_attested(&app, &same64, "v@example.com", WRONG).await).await;
}

#[tokio::test]
async fn the_session_list_records_the_attested_address() {
    let app = TestApp::sqlite().await;
    app.signed_up("ann@example.com").await;
    let res = sign_in_attested(
        &app,
        &attested(&app, "198.51.100.7", 0),
        "ann@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (access, _) = tokens_of(res).await;
    let sessions: Value = app
        .get("/api/v1/sessions", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    let current = sessions["sessions"]
        .as_array()
        .or_else(|| sessions.as_array())
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .cloned()
        .unwrap();
    assert_eq!(current["ipAddress"], "198.51.100.7", "{sessions}");
}
