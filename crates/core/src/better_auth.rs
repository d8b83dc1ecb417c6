//! Better Auth's session cookie, for teams moving from it: what Latchkey keeps of an
//! imported session, so that the cookie a browser still holds can be exchanged once for a
//! Latchkey session.

use sha2::{Digest, Sha256};

/// What the store keeps of a Better Auth session token (`session.token`): its SHA-256 in
/// lower-case hex. The token is 32 random characters, so an unkeyed hash is enough to make
/// a copy of the table useless; the import writes it and the exchange looks it up by it.
pub fn session_token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_sha256_in_lower_case_hex() {
        // `printf abc | sha256sum`
        assert_eq!(
            session_token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
