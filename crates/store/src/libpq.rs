//! A PostgreSQL URL read as libpq reads it, where sqlx on its own would not.
//!
//! sqlx (built with rustls, ring and the Mozilla roots) already reads libpq's `sslmode` —
//! `disable`, `prefer` (the default: TLS when the server offers it, unverified), `require`
//! (TLS, unverified), `verify-ca` (the chain, not the host name), `verify-full` (both) —
//! and `sslrootcert`, `sslcert`, `sslkey`. What it would get wrong is handled here, before
//! the first connection, so that nothing a user asked for is silently dropped:
//!
//! - `channel_binding=require` (in Neon's copy-paste URLs): sqlx cannot do SCRAM channel
//!   binding, so the URL is refused with what to write instead. `prefer` and `disable`
//!   (libpq's fallbacks) are taken out, so sqlx does not warn about a parameter it ignores.
//! - `sslmode=verify-ca`, and `require` with an `sslrootcert` (which libpq verifies as
//!   `verify-ca`): both become `verify-full`. sqlx trusts the Mozilla roots beside the
//!   `sslrootcert` file, so a chain-only check would accept any publicly trusted
//!   certificate, issued for any name, from whoever sits in the network path. Checking the
//!   host name too is stricter than asked, never weaker; a server whose certificate does not
//!   name the host is refused at start, saying so.
//! - `sslrootcert=system` (libpq 16): the built-in public roots, which libpq accepts only
//!   with `verify-full` (the default it then implies). sqlx would read "system" as a file.
//! - `sslrootcert=PATH`: read now, so a missing or empty file is named at start rather
//!   than failing every connection with a bare "No such file".
//!
//! One difference stays, and is documented: libpq trusts only the `sslrootcert` file,
//! while sqlx trusts it beside the Mozilla roots (hence `verify-full` above).

use url::Url;

use crate::{Result, StoreError};

/// `url`, changed where libpq's meaning needs it (otherwise returned as it was), or an
/// error naming the parameter at fault. Never echoes the URL: it may hold a password.
pub(crate) fn compatible(url: &str) -> Result<String> {
    let Ok(mut parsed) = Url::parse(url) else {
        // sqlx reports a malformed URL itself, without repeating it.
        return Ok(url.to_owned());
    };
    let mut pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    let before = pairs.len();
    for (key, value) in &pairs {
        if key == "channel_binding" {
            match value.as_str() {
                "prefer" | "disable" => {}
                "require" => {
                    return Err(bad(
                        "channel_binding=require: the PostgreSQL driver (sqlx) cannot do SCRAM \
                         channel binding, and would connect without it. Remove the parameter \
                         (or write channel_binding=prefer) and use sslmode=verify-full, which \
                         authenticates the server by its certificate instead",
                    ));
                }
                other => {
                    return Err(bad(format!(
                        "channel_binding={other:?} is not one of disable, prefer, require"
                    )));
                }
            }
        }
    }
    pairs.retain(|(key, _)| key != "channel_binding");
    let mut changed = pairs.len() != before;

    let is_mode = |key: &str| matches!(key, "sslmode" | "ssl-mode");
    let is_root = |key: &str| matches!(key, "sslrootcert" | "ssl-root-cert" | "ssl-ca");
    // As in sqlx, the last of a repeated parameter wins.
    // sqlx reads the mode in any case (`Require`); so does this.
    let mode = pairs
        .iter()
        .rfind(|(k, _)| is_mode(k))
        .map(|(_, v)| v.to_ascii_lowercase());
    let root = pairs
        .iter()
        .rfind(|(k, _)| is_root(k))
        .map(|(_, v)| v.clone());

    match (root.as_deref(), mode.as_deref()) {
        (Some("system"), None | Some("verify-full")) => {
            pairs.retain(|(k, _)| !is_root(k) && !is_mode(k));
            pairs.push(("sslmode".into(), "verify-full".into()));
            changed = true;
        }
        (Some("system"), Some(weak)) => {
            return Err(bad(format!(
                "sslrootcert=system needs sslmode=verify-full (as in libpq), not {weak}"
            )));
        }
        (Some(path), mode) => {
            check_root_file(path)?;
            if matches!(mode, Some("require" | "verify-ca")) {
                pairs.retain(|(k, _)| !is_mode(k));
                pairs.push(("sslmode".into(), "verify-full".into()));
                changed = true;
            }
        }
        (None, Some("verify-ca")) => {
            pairs.retain(|(k, _)| !is_mode(k));
            pairs.push(("sslmode".into(), "verify-full".into()));
            changed = true;
        }
        (None, _) => {}
    }

    if !changed {
        return Ok(url.to_owned());
    }
    if pairs.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(&pairs);
    }
    Ok(parsed.into())
}

/// An `sslrootcert` file must be readable and hold at least one PEM certificate (sqlx also
/// takes the PEM itself, inline, which is left to it).
fn check_root_file(path: &str) -> Result<()> {
    if path.trim_start().starts_with("-----BEGIN") {
        return Ok(());
    }
    let text = std::fs::read(path).map_err(|err| bad(format!("sslrootcert {path}: {err}")))?;
    if !text
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(bad(format!("sslrootcert {path} holds no PEM certificate")));
    }
    Ok(())
}

fn bad(why: impl Into<String>) -> StoreError {
    StoreError::BadUrl(why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_file() -> String {
        let path = std::env::temp_dir().join(format!("latchkey-libpq-{}.pem", std::process::id()));
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn a_url_that_needs_nothing_is_returned_as_it_was() {
        for url in [
            "postgres://u:p%40ss@db.example.com/app",
            "postgres://u:pw@db/app?sslmode=require",
            "postgres://u:pw@db/app?sslmode=verify-full&application_name=x",
            "postgresql://db/app?sslmode=disable",
        ] {
            assert_eq!(compatible(url).unwrap(), url);
        }
    }

    #[test]
    fn neons_channel_binding_require_is_refused_with_what_to_do_and_no_password() {
        let url = "postgres://neondb_owner:npg_secret@ep-x.eu-central-1.aws.neon.tech/neondb?sslmode=require&channel_binding=require";
        let err = compatible(url).unwrap_err().to_string();
        assert!(err.contains("channel_binding=require"), "{err}");
        assert!(err.contains("sslmode=verify-full"), "{err}");
        assert!(!err.contains("npg_secret"), "{err}");
        let err = compatible("postgres://db/app?channel_binding=maybe").unwrap_err();
        assert!(
            err.to_string().contains("channel_binding=\"maybe\""),
            "{err}"
        );
    }

    #[test]
    fn channel_binding_prefer_or_disable_is_taken_out_and_the_rest_kept() {
        assert_eq!(
            compatible("postgres://u:pw@db/app?sslmode=require&channel_binding=prefer").unwrap(),
            "postgres://u:pw@db/app?sslmode=require"
        );
        assert_eq!(
            compatible("postgres://u:pw@db/app?channel_binding=disable").unwrap(),
            "postgres://u:pw@db/app"
        );
    }

    #[test]
    fn a_chain_check_becomes_a_full_check_since_the_public_roots_are_trusted_too() {
        let ca = ca_file();
        for mode in ["require", "Require", "verify-ca", "VERIFY-CA"] {
            let url = format!("postgres://db/app?sslmode={mode}&sslrootcert={ca}");
            let rewritten = compatible(&url).unwrap();
            assert!(rewritten.contains("sslmode=verify-full"), "{rewritten}");
            assert!(!rewritten.contains("verify-ca"), "{rewritten}");
        }
        let rewritten = compatible("postgres://db/app?sslmode=verify-ca").unwrap();
        assert!(rewritten.ends_with("?sslmode=verify-full"), "{rewritten}");
        // Without a root file, require stays require: encrypted, unverified, as asked.
        let plain = "postgres://db/app?sslmode=require";
        assert_eq!(compatible(plain).unwrap(), plain);
        let full = format!("postgres://db/app?sslmode=verify-full&sslrootcert={ca}");
        assert_eq!(compatible(&full).unwrap(), full);
    }

    #[test]
    fn sslrootcert_system_means_the_public_roots_and_verify_full() {
        assert_eq!(
            compatible("postgres://db/app?sslrootcert=system").unwrap(),
            "postgres://db/app?sslmode=verify-full"
        );
        let err = compatible("postgres://db/app?sslmode=require&sslrootcert=system").unwrap_err();
        assert!(err.to_string().contains("verify-full"), "{err}");
    }

    #[test]
    fn a_missing_or_empty_root_certificate_file_is_named() {
        let err =
            compatible("postgres://db/app?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
                .unwrap_err()
                .to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        let empty = std::env::temp_dir().join(format!("latchkey-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate").unwrap();
        let url = format!(
            "postgres://db/app?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        );
        let err = compatible(&url).unwrap_err().to_string();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
