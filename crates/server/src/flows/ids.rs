//! Identifiers: random (v4-layout) UUIDs, drawn through the core's one source of randomness.

use latchkey_core::{Error, random};

/// A fresh random id in the canonical lower-case hyphenated form.
pub fn new_id() -> Result<String, Error> {
    Ok(uuid::Builder::from_random_bytes(random::bytes::<16>()?)
        .into_uuid()
        .to_string())
}

/// The canonical form of a client-supplied id, or `None` if it is not a UUID at all. Any
/// spelling the uuid crate accepts (upper case, braces, `urn:uuid:`) names the same row.
pub fn canonical(raw: &str) -> Option<String> {
    uuid::Uuid::try_parse(raw)
        .ok()
        .map(|id| id.hyphenated().to_string())
}
