//! A row read → a user the store can take, or the reason it cannot be one.
//!
//! The address is normalised exactly as registration normalises it, so sign-in finds the
//! user; two rows whose addresses normalise alike would be one account here, so only the
//! first is imported. The password hash is classified, never run: verifying it is sign-in's
//! work. A user without one gets a hash of a random password nobody keeps — it never
//! matches, a sign-in against it costs what any other does (so it tells no one the account
//! has no password), and a password reset replaces it like any other.

use std::collections::HashMap;

use latchkey_core::hash::{self, DEFAULT_COST};
use latchkey_core::{Email, random};
use latchkey_store::ImportedUser;

use super::report::Report;
use super::{Candidate, Origin, Refusal, Row};
use crate::flows::text::{image_url, plain_text};

/// The longest id kept: ids go into tokens and logs, and other systems' fit well within it.
const MAX_ID_LEN: usize = 255;
/// As the API allows for a name.
const MAX_NAME_CHARS: usize = 100;

/// A user ready for the store.
pub(super) struct Checked {
    pub origin: Origin,
    pub user: ImportedUser,
    /// They had no password of their own (and were given the unusable one).
    pub passwordless: bool,
}

/// Checks rows one after another, remembering the ids and addresses already taken by the
/// rows before.
pub(super) struct Checker {
    now_ms: i64,
    ids: HashMap<String, Origin>,
    keys: HashMap<String, Origin>,
    unusable: Option<String>,
}

impl Checker {
    pub fn new(now_ms: i64) -> Checker {
        Checker {
            now_ms,
            ids: HashMap::new(),
            keys: HashMap::new(),
            unusable: None,
        }
    }

    /// The user `row` describes, or `None` with its refusal recorded in `report`. An error
    /// only if the unusable password could not be made.
    pub async fn check(
        &mut self,
        row: Row,
        report: &mut Report,
    ) -> anyhow::Result<Option<Checked>> {
        let Row { origin, read } = row;
        let refused = match read {
            Ok(candidate) => {
                let sessions = candidate.sessions.len() as u64;
                match self.user(&origin, candidate, report).await? {
                    Ok(checked) => return Ok(Some(checked)),
                    Err(refusal) => {
                        report.sessions.of_refused += sessions;
                        refusal
                    }
                }
            }
            Err(refusal) => refusal,
        };
        report.refuse(origin, refused);
        Ok(None)
    }

    async fn user(
        &mut self,
        origin: &Origin,
        candidate: Candidate,
        report: &mut Report,
    ) -> anyhow::Result<Result<Checked, Refusal>> {
        let Candidate {
            id,
            email,
            name,
            image,
            email_verified,
            created_at_ms,
            password_hash,
            sessions,
            note,
        } = candidate;
        if let Err(refusal) = check_id(&id) {
            return Ok(Err(refusal));
        }
        let email = match Email::parse(&email) {
            Ok(email) => email,
            Err(err) => return Ok(Err(Refusal::new("invalid_email", err.to_string()))),
        };
        if let Some(Err(err)) = password_hash.as_deref().map(hash::identify) {
            return Ok(Err(Refusal::new(err.code(), err.to_string())));
        }
        let key = email.key();
        if let Some(first) = self.ids.get(&id) {
            return Ok(Err(Refusal::new(
                "duplicate_id",
                format!("the same id as {first}, which came first"),
            )));
        }
        if let Some(first) = self.keys.get(&key) {
            return Ok(Err(Refusal::new(
                "duplicate_email",
                format!(
                    "{email} is the same address, once normalised, as {first}'s, which came first"
                ),
            )));
        }
        let name = name.and_then(|name| match plain_text("name", &name) {
            Ok(name) if name.is_empty() => None,
            Ok(name) if name.chars().count() <= MAX_NAME_CHARS => Some(name),
            Ok(_) => {
                report.note(
                    origin,
                    format!("name left out: longer than {MAX_NAME_CHARS} characters"),
                );
                None
            }
            Err(_) => {
                report.note(origin, "name left out: it holds control characters".into());
                None
            }
        });
        let image = image
            .filter(|image| !image.trim().is_empty())
            .and_then(|image| {
                image_url(&image)
                    .inspect_err(|_| {
                        report.note(origin, "image left out: not an http(s) URL".into())
                    })
                    .ok()
            });
        if let Some(note) = note {
            report.note(origin, note);
        }
        let passwordless = password_hash.is_none();
        let password_hash = match password_hash {
            Some(hash) => hash,
            None => self.unusable().await?,
        };
        self.ids.insert(id.clone(), origin.clone());
        self.keys.insert(key.clone(), origin.clone());
        Ok(Ok(Checked {
            origin: origin.clone(),
            passwordless,
            user: ImportedUser {
                id,
                email: email.as_str().to_owned(),
                email_key: key,
                name,
                image,
                email_verified,
                created_at_ms: created_at_ms.unwrap_or(self.now_ms),
                password_hash,
                sessions,
                now_ms: self.now_ms,
            },
        }))
    }

    /// The hash every user without a password gets: of 32 random bytes nobody keeps, made
    /// once per import, at the cost sign-in verifies.
    async fn unusable(&mut self) -> anyhow::Result<String> {
        if let Some(hash) = &self.unusable {
            return Ok(hash.clone());
        }
        let password: String = random::bytes::<32>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let salt = random::bytes::<16>()?;
        let hash = tokio::task::spawn_blocking(move || {
            hash::hash_password(&password, &salt, DEFAULT_COST)
        })
        .await??;
        self.unusable = Some(hash.clone());
        Ok(hash)
    }
}

/// An id is kept as it is, so it must be safe everywhere an id goes (a token's `sub`, a
/// log line, a URL): 1 to 255 visible ASCII characters. UUIDs, Better Auth's 32-character
/// ids, `auth0|…`, `user_2…` and plain numbers all are.
fn check_id(id: &str) -> Result<(), Refusal> {
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::new(
            "invalid_id",
            format!("the id must be 1 to {MAX_ID_LEN} visible ASCII characters, without spaces"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_other_systems_are_kept_and_unsafe_ones_refused() {
        for id in [
            "3ZNffzosfWhWbTkycb0DhBbhH9pIU0r5",
            "0b8f5c1e-3a52-4f8e-9c4d-2f1a6b7c8d9e",
            "auth0|5f7c8ec7c33c6c004bbafe82",
            "user_2NNEqL2nrIRdJ194ndJqAHwEfxC",
            "42",
        ] {
            assert_eq!(check_id(id), Ok(()), "{id}");
        }
        let long = "x".repeat(MAX_ID_LEN + 1);
        for id in ["", "a b", "a\u{0}b", "é", "line\nbreak", long.as_str()] {
            assert_eq!(check_id(id).unwrap_err().code, "invalid_id", "{id:?}");
        }
    }
}
