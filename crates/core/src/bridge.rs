//! The client address the Next.js bridge vouches for.
//!
//! The cookie bridge (`createAuthHandler`, `authProxy` in the npm package) stands between
//! browsers and the server, so the server's TCP peer is the app, never the browser. Passing on
//! the browser's own `X-Forwarded-For` would let every client pick its address; passing
//! nothing would put every user in one rate-limit bucket. So the bridge works out the client's
//! address itself (from a header its platform writes) and hands it over *signed*:
//!
//! ```text
//! Latchkey-Client-Address: 198.51.100.7;1798761600;<base64url HMAC-SHA256(key, "198.51.100.7\n1798761600")>
//! ```
//!
//! The key is derived from the shared `LATCHKEY_SECRET` with its own label, so it can sign
//! nothing else and nothing else signed with the secret (a token, a refresh token) can pass
//! for an attestation. The timestamp bounds a replay to [`MAX_SKEW_SECS`] either way; the
//! address is written in its one canonical form, so a verifier never has to guess what was
//! signed. Only the bridge and the server hold the secret, so only they can produce one.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Secret;

/// The header the bridge sends (HTTP header names are case-insensitive).
pub const HEADER: &str = "latchkey-client-address";

/// How far an attestation's time may be from the verifier's, in seconds, either way.
pub const MAX_SKEW_SECS: i64 = 60;

/// The longest header accepted: a full IPv6 address, a timestamp and a MAC fit in 100.
const MAX_LEN: usize = 128;

/// Length of a base64url HMAC-SHA256 without padding.
const MAC_LEN: usize = 43;

/// The key attestations are signed under: HMAC-SHA256 of a fixed label under the secret.
#[derive(Clone)]
pub struct BridgeKey([u8; 32]);

impl std::fmt::Debug for BridgeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BridgeKey([redacted])")
    }
}

impl BridgeKey {
    pub fn new(secret: &Secret) -> Self {
        let mut mac = new_mac(secret.expose());
        mac.update(b"latchkey bridge client address v1");
        BridgeKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self, ip: &str, secs: &str) -> Hmac<Sha256> {
        let mut mac = new_mac(&self.0);
        mac.update(ip.as_bytes());
        mac.update(b"\n");
        mac.update(secs.as_bytes());
        mac
    }
}

fn new_mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// Why an attestation was not believed. Never carries the header's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `<ip>;<secs>;<mac>` with each part in its canonical form.
    Malformed,
    /// Signed more than [`MAX_SKEW_SECS`] away from now.
    Stale,
    /// The MAC does not match (another key, or a changed address or time).
    BadSignature,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Malformed => "malformed",
            Refusal::Stale => "stale",
            Refusal::BadSignature => "bad signature",
        })
    }
}

/// The header value vouching that the client's address is `ip` at `now_secs`.
pub fn attest(key: &BridgeKey, ip: IpAddr, now_secs: i64) -> String {
    let ip = ip.to_canonical().to_string();
    let secs = now_secs.to_string();
    let mac = URL_SAFE_NO_PAD.encode(key.mac(&ip, &secs).finalize().into_bytes());
    format!("{ip};{secs};{mac}")
}

/// The address an attestation vouches for, if it was signed under `key` within
/// [`MAX_SKEW_SECS`] of `now_secs` and every part is exactly as [`attest`] writes it.
pub fn verify(key: &BridgeKey, header: &str, now_secs: i64) -> Result<IpAddr, Refusal> {
    if header.len() > MAX_LEN {
        return Err(Refusal::Malformed);
    }
    let mut parts = header.split(';');
    let (Some(ip_text), Some(secs_text), Some(mac_text), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let ip: IpAddr = ip_text.parse().map_err(|_| Refusal::Malformed)?;
    // One spelling per address and per time, so what was signed is never in doubt.
    if ip.to_canonical().to_string() != ip_text {
        return Err(Refusal::Malformed);
    }
    let secs = canonical_secs(secs_text).ok_or(Refusal::Malformed)?;
    if mac_text.len() != MAC_LEN {
        return Err(Refusal::Malformed);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(mac_text)
        .map_err(|_| Refusal::Malformed)?;
    // verify_slice compares in constant time.
    key.mac(ip_text, secs_text)
        .verify_slice(&tag)
        .map_err(|_| Refusal::BadSignature)?;
    // Checked after the MAC, so a forger learns nothing about the clock from the answer.
    if secs.abs_diff(now_secs) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(Refusal::Stale);
    }
    Ok(ip)
}

/// A non-negative decimal with no sign, no leading zero and at most 12 digits.
fn canonical_secs(text: &str) -> Option<i64> {
    let digits = !text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit());
    if !digits || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

/// The client's address from a header a trusted proxy in front of the app writes:
/// the `trusted_hops`-th entry from the right of the comma-separated values (several header
/// lines read as one list, in order). One hop (`X-Real-IP`, Vercel's
/// `X-Vercel-Forwarded-For`, or an `X-Forwarded-For` that one proxy appended to) is the
/// right-most entry; each further proxy that appends moves it one to the left. Anything to
/// the left of that was written by the client and is never read. `None` when the header is
/// too short for the stated hops or the entry is not an address: guessing further would let
/// the client choose.
pub fn client_from_header(values: &[&str], trusted_hops: usize) -> Option<IpAddr> {
    if trusted_hops == 0 {
        return None;
    }
    let entry = values
        .iter()
        .rev()
        .flat_map(|value| value.rsplit(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .nth(trusted_hops - 1)?;
    crate::client_ip::parse_address(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_798_761_600;

    fn key() -> BridgeKey {
        BridgeKey::new(&Secret::parse("bridge-test-secret-0123456789abcdef-0123").unwrap())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_attestation_verifies_to_its_address_within_a_minute_either_way() {
        let header = attest(&key(), ip("198.51.100.7"), NOW);
        assert!(header.starts_with("198.51.100.7;1798761600;"), "{header}");
        for now in [NOW - 60, NOW, NOW + 60] {
            assert_eq!(verify(&key(), &header, now), Ok(ip("198.51.100.7")));
        }
        for now in [NOW - 61, NOW + 61, 0, i64::MAX, i64::MIN] {
            assert_eq!(verify(&key(), &header, now), Err(Refusal::Stale));
        }
        let v6 = attest(&key(), ip("2001:db8::1"), NOW);
        assert_eq!(verify(&key(), &v6, NOW), Ok(ip("2001:db8::1")));
    }

    #[test]
    fn a_mapped_ipv4_address_is_attested_as_ipv4() {
        let header = attest(&key(), ip("::ffff:198.51.100.7"), NOW);
        assert!(header.starts_with("198.51.100.7;"));
        assert_eq!(verify(&key(), &header, NOW), Ok(ip("198.51.100.7")));
    }

    #[test]
    fn another_key_or_a_changed_part_is_a_bad_signature() {
        let other =
            BridgeKey::new(&Secret::parse("another-secret-0123456789abcdef-0123456").unwrap());
        let header = attest(&other, ip("198.51.100.7"), NOW);
        assert_eq!(verify(&key(), &header, NOW), Err(Refusal::BadSignature));

        let good = attest(&key(), ip("198.51.100.7"), NOW);
        let mac = good.rsplit(';').next().unwrap();
        let moved = format!("198.51.100.8;{NOW};{mac}");
        assert_eq!(verify(&key(), &moved, NOW), Err(Refusal::BadSignature));
        let later = format!("198.51.100.7;{};{mac}", NOW + 1);
        assert_eq!(verify(&key(), &later, NOW), Err(Refusal::BadSignature));
        // A token signed with the secret itself is no attestation either.
        let raw = URL_SAFE_NO_PAD.encode(
            new_mac(b"bridge-test-secret-0123456789abcdef-0123")
                .chain_update(format!("198.51.100.7\n{NOW}"))
                .finalize()
                .into_bytes(),
        );
        let unlabelled = format!("198.51.100.7;{NOW};{raw}");
        assert_eq!(verify(&key(), &unlabelled, NOW), Err(Refusal::BadSignature));
    }

    #[test]
    fn anything_not_written_exactly_as_attest_writes_it_is_malformed() {
        let good = attest(&key(), ip("2001:db8::1"), NOW);
        let mac = good.rsplit(';').next().unwrap().to_owned();
        for bad in [
            String::new(),
            ";;".into(),
            format!("2001:db8::1;{NOW}"),
            format!("2001:db8::1;{NOW};{mac};"),
            format!("2001:db8:0::1;{NOW};{mac}"),
            format!("2001:DB8::1;{NOW};{mac}"),
            format!("[2001:db8::1];{NOW};{mac}"),
            format!(" 2001:db8::1;{NOW};{mac}"),
            format!("::ffff:198.51.100.7;{NOW};{mac}"),
            format!("2001:db8::1;+{NOW};{mac}"),
            format!("2001:db8::1;0{NOW};{mac}"),
            format!("2001:db8::1;-{NOW};{mac}"),
            format!("2001:db8::1;{NOW}.0;{mac}"),
            format!("2001:db8::1;{NOW};{mac}="),
            format!("2001:db8::1;{NOW};{}", &mac[1..]),
            format!(
                "2001:db8::1;{NOW};{}",
                mac.replace(|c: char| c.is_ascii_alphanumeric(), "+")
            ),
            "x".repeat(1000),
        ] {
            assert_eq!(verify(&key(), &bad, NOW), Err(Refusal::Malformed), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_entry_the_stated_hops_point_at_from_the_right() {
        assert_eq!(
            client_from_header(&["198.51.100.7"], 1),
            Some(ip("198.51.100.7"))
        );
        let xff = ["6.6.6.6, 203.0.113.9", "198.51.100.7, 10.0.0.1"];
        assert_eq!(client_from_header(&xff, 1), Some(ip("10.0.0.1")));
        assert_eq!(client_from_header(&xff, 2), Some(ip("198.51.100.7")));
        assert_eq!(client_from_header(&xff, 3), Some(ip("203.0.113.9")));
        assert_eq!(client_from_header(&xff, 5), None);
        assert_eq!(client_from_header(&xff, 0), None);
        assert_eq!(
            client_from_header(&["[2001:db8::1]:443"], 1),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            client_from_header(&["198.51.100.7:80"], 1),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(client_from_header(&["198.51.100.7, nonsense"], 1), None);
        assert_eq!(client_from_header(&[], 1), None);
        assert_eq!(client_from_header(&[" , "], 1), None);
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(format!("{:?}", key()), "BridgeKey([redacted])");
    }
}
