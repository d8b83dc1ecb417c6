//! `latchkey import jsonl FILE`: one user per line, a JSON object — the way in for Auth0,
//! Supabase, Clerk or a hand-rolled export, once reshaped (the schema is in README,
//! "Importing users"):
//!
//! ```json
//! {"id": "auth0|5f7c8e", "email": "ann@example.com", "email_verified": true, "name": "Ann",
//!  "image": "https://…", "created_at": "2024-05-01T12:00:00Z", "password_hash": "$2b$10$…"}
//! ```
//!
//! `id` (a string or an integer) and `email` are required; the rest may be left out or
//! `null`. Other fields are ignored. Blank lines are skipped. A line that is not such an
//! object is refused with its number, and the reason names the field, never its value (it
//! might be a hash in the wrong place).

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use super::{Candidate, Feed, Origin, Refusal, Row};

/// Opens `path` and starts reading it, a line at a time, on a thread of its own.
pub fn open(path: &Path) -> anyhow::Result<Feed> {
    let cannot = |err: std::io::Error| anyhow::anyhow!("cannot read {}: {err}", path.display());
    // Counted first for the progress line: one quick pass, no parsing.
    let mut lines = 0u64;
    for line in BufReader::new(std::fs::File::open(path).map_err(cannot)?).split(b'\n') {
        if !line.map_err(cannot)?.trim_ascii().is_empty() {
            lines += 1;
        }
    }
    let file = BufReader::new(std::fs::File::open(path).map_err(cannot)?);
    let (send, feed) = Feed::channel(Some(lines));
    let shown = path.display().to_string();
    std::thread::spawn(move || {
        for (number, line) in (1u64..).zip(file.split(b'\n')) {
            let row = match line {
                Ok(line) if line.trim_ascii().is_empty() => continue,
                Ok(line) => Ok(parse(number, &line)),
                Err(err) => Err(anyhow::anyhow!("reading {shown}: {err}")),
            };
            let stop = row.is_err();
            if send.blocking_send(row).is_err() || stop {
                break;
            }
        }
    });
    Ok(feed)
}

/// Line `number` of the file.
pub fn parse(number: u64, line: &[u8]) -> Row {
    Row {
        origin: Origin::Line(number),
        read: candidate(line),
    }
}

fn candidate(line: &[u8]) -> Result<Candidate, Refusal> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|err| Refusal::new("invalid_json", format!("not JSON: {err}")))?;
    let Value::Object(object) = value else {
        return Err(Refusal::new(
            "invalid_json",
            "the line is not a JSON object",
        ));
    };
    let id = match object.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        None | Some(Value::Null) => return Err(Refusal::new("invalid_id", "id is missing")),
        Some(_) => {
            return Err(Refusal::new(
                "invalid_id",
                "id must be a string or an integer",
            ));
        }
    };
    let email =
        text(&object, "email")?.ok_or_else(|| Refusal::new("invalid_email", "email is missing"))?;
    let email_verified = match object.get("email_verified") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(verified)) => *verified,
        Some(_) => return Err(field("email_verified must be true or false")),
    };
    let created_at_ms = match object.get("created_at") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(Value::String(date)) => Some(rfc3339(date).ok_or_else(created_at)?),
        Some(_) => return Err(created_at()),
    };
    Ok(Candidate {
        id,
        email,
        name: text(&object, "name")?,
        image: text(&object, "image")?,
        email_verified,
        created_at_ms,
        password_hash: text(&object, "password_hash")?,
        ..Candidate::default()
    })
}

/// A string field; absent and `null` are `None`.
fn text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, Refusal> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(field(&format!("{name} must be a string"))),
    }
}

fn field(detail: &str) -> Refusal {
    Refusal::new("invalid_field", detail)
}

fn created_at() -> Refusal {
    field("created_at must be an RFC 3339 date (2024-05-01T12:00:00Z) or Unix milliseconds")
}

fn rfc3339(date: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let date = time::OffsetDateTime::parse(date.trim(), &Rfc3339).ok()?;
    i64::try_from(date.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(line: &str) -> Refusal {
        match parse(1, line.as_bytes()).read {
            Ok(_) => panic!("accepted {line}"),
            Err(refusal) => refusal,
        }
    }

    #[test]
    fn every_documented_field_is_read() {
        let line = r#"{"id": "auth0|1", "email": "Ann@Example.com", "email_verified": true,
            "name": "Ann", "image": "https://cdn.example.com/a.png",
            "created_at": "2024-05-01T12:00:00Z", "password_hash": "$2b$10$x", "extra": 1}"#;
        let user = parse(1, line.replace('\n', " ").as_bytes())
            .read
            .ok()
            .unwrap();
        assert_eq!(user.id, "auth0|1");
        assert_eq!(user.email, "Ann@Example.com");
        assert!(user.email_verified);
        assert_eq!(user.name.as_deref(), Some("Ann"));
        assert_eq!(user.created_at_ms, Some(1_714_564_800_000));
        assert_eq!(user.password_hash.as_deref(), Some("$2b$10$x"));
        let minimal = parse(2, br#"{"id": 42, "email": "bo@example.com", "name": null}"#);
        let user = minimal.read.ok().unwrap();
        assert_eq!((user.id.as_str(), user.email_verified), ("42", false));
        assert_eq!(
            (user.name, user.created_at_ms, user.password_hash),
            (None, None, None)
        );
    }

    #[test]
    fn a_bad_line_is_refused_naming_the_field_never_its_value() {
        let secret = "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5nq/6R1Sg1h3WQ3vvvUU2h7sP/YS/J.";
        for (line, code) in [
            ("not json".to_owned(), "invalid_json"),
            ("[1, 2]".to_owned(), "invalid_json"),
            (r#"{"email": "a@example.com"}"#.to_owned(), "invalid_id"),
            (
                r#"{"id": 1.5, "email": "a@example.com"}"#.to_owned(),
                "invalid_id",
            ),
            (r#"{"id": "1"}"#.to_owned(), "invalid_email"),
            (
                format!(r#"{{"id": "1", "email": "a@example.com", "email_verified": "{secret}"}}"#),
                "invalid_field",
            ),
            (
                format!(r#"{{"id": "1", "email": "a@example.com", "created_at": "{secret}"}}"#),
                "invalid_field",
            ),
            (
                r#"{"id": "1", "email": "a@example.com", "password_hash": 5}"#.to_owned(),
                "invalid_field",
            ),
        ] {
            let refusal = refusal(&line);
            assert_eq!(refusal.code, code, "{line}");
            assert!(!refusal.detail.contains(secret), "{}", refusal.detail);
        }
    }
}
