//! Password hashes (native only, feature `hashing`): argon2id for every hash Latchkey
//! writes, and verification of the hashes users bring when they move in from another system,
//! so they keep their passwords.
//!
//! A foreign hash is verified once: the sign-in that proves the password replaces it with
//! argon2id at today's cost ([`needs_rehash`] is true for every other format).
//!
//! A stored hash names its own cost, so a database row could ask for any amount of work.
//! Every format is read in full and its cost checked before anything runs ([`work`]): past
//! the limits a hash is refused as stored data (`password_hash_too_costly`), and a string in
//! no format we verify is `unsupported_password_hash`. Neither ever runs a hash function.
//!
//! # Layout
//!
//! - [`argon2id`]: the format Latchkey writes; [`Cost`], [`Workspace`], [`hash_password`].
//! - [`bcrypt`]: `$2a$`, `$2b$`, `$2y$`, as Python's `bcrypt` and passlib verify them,
//!   including the 72-byte rule.
//! - [`scrypt`]: Better Auth's default `<salt>:<key>` and passlib's `$scrypt$`.

pub mod argon2id;
pub mod bcrypt;
pub mod scrypt;

pub use argon2id::{
    Cost, DEFAULT_COST, MAX_COST, MAX_WORK_KIB, Workspace, hash_password, hash_password_in,
};

use crate::Error;

/// The families of stored hash Latchkey can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Argon2id,
    Bcrypt,
    Scrypt,
}

/// What verifying a stored hash costs: its scheme and the parameters that set the work.
/// Two hashes with the same `Work` take the same time to verify, whatever the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    Argon2id(Cost),
    Bcrypt { cost: u32 },
    Scrypt { log_n: u8, r: u32, p: u32 },
}

impl Work {
    pub fn scheme(&self) -> Scheme {
        match self {
            Work::Argon2id(_) => Scheme::Argon2id,
            Work::Bcrypt { .. } => Scheme::Bcrypt,
            Work::Scrypt { .. } => Scheme::Scrypt,
        }
    }

    fn within_limits(&self) -> bool {
        match *self {
            Work::Argon2id(cost) => cost.within_limits(),
            Work::Bcrypt { cost } => cost <= bcrypt::MAX_COST,
            Work::Scrypt { log_n, r, p } => scrypt::Stored::within_limits(log_n, r, p),
        }
    }
}

/// A stored hash, read in full, its cost not yet checked.
enum Stored<'a> {
    Argon2id(argon2id::Stored),
    Bcrypt(bcrypt::Stored<'a>),
    Scrypt(scrypt::Stored),
}

impl Stored<'_> {
    fn work(&self) -> Work {
        match self {
            Stored::Argon2id(hash) => Work::Argon2id(hash.cost()),
            Stored::Bcrypt(hash) => Work::Bcrypt { cost: hash.cost() },
            Stored::Scrypt(hash) => Work::Scrypt {
                log_n: hash.log_n,
                r: hash.r,
                p: hash.p,
            },
        }
    }
}

/// Reads `stored` in whichever format its prefix names, checking its shape but not its cost.
fn parse(stored: &str) -> Result<Stored<'_>, Error> {
    if stored.starts_with("$argon2id$") {
        argon2id::parse(stored).map(Stored::Argon2id)
    } else if stored.starts_with("$2") {
        bcrypt::parse(stored).map(Stored::Bcrypt)
    } else if stored.starts_with("$scrypt$") {
        scrypt::parse_passlib(stored).map(Stored::Scrypt)
    } else if !stored.starts_with('$') && stored.contains(':') {
        scrypt::parse_better_auth(stored).map(Stored::Scrypt)
    } else {
        Err(Error::UnsupportedPasswordHash)
    }
}

/// Reads `stored` and checks its cost, without running it: its [`Work`], or
/// `UnsupportedPasswordHash` (malformed, or a format we do not verify) or
/// `PasswordHashTooCostly` (over the limits of its scheme).
pub fn work(stored: &str) -> Result<Work, Error> {
    let work = parse(stored)?.work();
    if work.within_limits() {
        Ok(work)
    } else {
        Err(Error::PasswordHashTooCostly)
    }
}

/// Which scheme `stored` is in, with the same checks as [`work`] and nothing run: what an
/// import asks of every hash before writing anything.
pub fn identify(stored: &str) -> Result<Scheme, Error> {
    work(stored).map(|work| work.scheme())
}

/// Checks `password` against `stored`, in any format [`identify`] accepts.
///
/// `Ok(false)` means "wrong password"; an error means the stored string itself cannot be
/// used (as [`work`] says), and then nothing was run.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, Error> {
    verify_password_in(&mut Workspace::default(), password, stored)
}

/// [`verify_password`] in a reusable [`Workspace`] (which only argon2id uses).
pub fn verify_password_in(
    workspace: &mut Workspace,
    password: &str,
    stored: &str,
) -> Result<bool, Error> {
    let parsed = parse(stored)?;
    if !parsed.work().within_limits() {
        return Err(Error::PasswordHashTooCostly);
    }
    match parsed {
        Stored::Argon2id(hash) => hash.verify(workspace, password),
        Stored::Bcrypt(hash) => hash.verify(password),
        Stored::Scrypt(hash) => hash.verify(password),
    }
}

/// True when `stored` is not argon2id at `cost` or stronger: a foreign format, or weaker
/// parameters. The next sign-in that proves the password replaces it.
pub fn needs_rehash(stored: &str, cost: Cost) -> bool {
    match parse(stored) {
        Ok(Stored::Argon2id(hash)) => hash.cost().weaker_than(&cost),
        _ => true,
    }
}

/// A short name for the format `stored` appears to be in, for a log line about a hash that
/// cannot be used. Only fixed names come out of it, never a character of `stored` (a
/// plain-text password could be sitting in the column).
pub fn label(stored: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("$argon2id$", "argon2id"),
        ("$argon2i$", "argon2i"),
        ("$argon2d$", "argon2d"),
        ("$2a$", "bcrypt"),
        ("$2b$", "bcrypt"),
        ("$2y$", "bcrypt"),
        ("$2x$", "bcrypt $2x$"),
        ("$bcrypt-sha256$", "passlib bcrypt-sha256"),
        ("$scrypt$", "passlib scrypt"),
        ("$7$", "scrypt $7$"),
        ("$pbkdf2", "passlib pbkdf2"),
        ("pbkdf2_sha256$", "django pbkdf2"),
        ("$1$", "md5-crypt"),
        ("$5$", "sha256-crypt"),
        ("$6$", "sha512-crypt"),
        ("$y$", "yescrypt"),
        ("$gy$", "gost-yescrypt"),
    ];
    if let Some((_, name)) = PREFIXES.iter().find(|(p, _)| stored.starts_with(p)) {
        return name;
    }
    let hex_pair = stored.split_once(':').is_some_and(|(salt, key)| {
        !salt.is_empty()
            && [salt, key]
                .iter()
                .all(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if hex_pair {
        "better-auth scrypt"
    } else {
        "unrecognised"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bcrypt.hashpw(b"ab", bcrypt.gensalt(4))` in Python's `bcrypt` 4.3.
    const BCRYPT: &str = "$2b$04$NRyIDPZ/ubF06ducaDCLB.G0170l8f0NaiZICxEBtXpKliBFd4PkG";

    #[test]
    fn each_format_is_identified_by_its_shape_and_only_argon2id_is_kept() {
        let argon2 = hash_password("ab", &[1; 16], DEFAULT_COST).unwrap();
        let better_auth = format!("{}:{}", "0".repeat(32), "a".repeat(128));
        let passlib = format!("$scrypt$ln=16,r=8,p=1$c2FsdA${}", "A".repeat(43));
        for (stored, scheme) in [
            (argon2.as_str(), Scheme::Argon2id),
            (BCRYPT, Scheme::Bcrypt),
            (better_auth.as_str(), Scheme::Scrypt),
            (passlib.as_str(), Scheme::Scrypt),
        ] {
            assert_eq!(identify(stored), Ok(scheme), "{stored}");
            assert_eq!(
                needs_rehash(stored, DEFAULT_COST),
                scheme != Scheme::Argon2id
            );
        }
        assert_eq!(work(BCRYPT), Ok(Work::Bcrypt { cost: 4 }));
        assert_eq!(
            work(&better_auth),
            Ok(Work::Scrypt {
                log_n: 14,
                r: 16,
                p: 1
            })
        );
        assert_eq!(work(&argon2), Ok(Work::Argon2id(DEFAULT_COST)));
    }

    #[test]
    fn costs_over_the_limits_are_refused_before_anything_runs() {
        let started = std::time::Instant::now();
        let digest = "A".repeat(43);
        for stored in [
            BCRYPT.replacen("$04$", "$15$", 1),
            BCRYPT.replacen("$04$", "$31$", 1),
            format!("$scrypt$ln=30,r=8,p=1$c2FsdA${digest}"),
            format!("$scrypt$ln=255,r=8,p=1$c2FsdA${digest}"),
            format!("$scrypt$ln=14,r=8,p=4096$c2FsdA${digest}"),
            format!("$scrypt$ln=4,r=999999999,p=999999999$c2FsdA${digest}"),
        ] {
            assert_eq!(
                identify(&stored),
                Err(Error::PasswordHashTooCostly),
                "{stored}"
            );
            assert_eq!(
                verify_password("ab", &stored),
                Err(Error::PasswordHashTooCostly),
                "{stored}"
            );
        }
        // A second of work would be bcrypt 14; all of those together took next to nothing.
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }

    #[test]
    fn garbage_and_formats_we_do_not_verify_are_unsupported_and_named_safely() {
        let argon2i = hash_password("x", &[1; 16], DEFAULT_COST)
            .unwrap()
            .replace("argon2id", "argon2i");
        for (stored, name) in [
            ("", "unrecognised"),
            ("$", "unrecognised"),
            ("hunter2", "unrecognised"),
            ("$hunter2$", "unrecognised"),
            ("$argon2id$", "argon2id"),
            (
                "$argon2id$v=19$m=abc,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
                "argon2id",
            ),
            ("$argon2id$v=19$m=64,t=1,p=1", "argon2id"),
            ("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ", "argon2id"),
            (
                "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
                "argon2id",
            ),
            (argon2i.as_str(), "argon2i"),
            (&BCRYPT.replacen("$2b$", "$2x$", 1), "bcrypt $2x$"),
            (&BCRYPT[..40], "bcrypt"),
            (
                "$bcrypt-sha256$v=2,t=2b,r=12$n79VH.0Q2TMWmt3Oqt9uku$Kq4Noyk3094Y2QlB8NdRT8SvGiI4ft2",
                "passlib bcrypt-sha256",
            ),
            (
                "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk",
                "passlib pbkdf2",
            ),
            ("pbkdf2_sha256$600000$salt$aGFzaA==", "django pbkdf2"),
            ("$6$rounds=5000$salt$hash", "sha512-crypt"),
            ("$scrypt$ln=16,r=8,p=1$c2FsdA", "passlib scrypt"),
            ("0123:ABCD", "better-auth scrypt"),
            ("password:hunter2", "unrecognised"),
        ] {
            assert_eq!(
                identify(stored),
                Err(Error::UnsupportedPasswordHash),
                "{stored}"
            );
            assert_eq!(
                verify_password("x", stored),
                Err(Error::UnsupportedPasswordHash),
                "{stored}"
            );
            assert!(needs_rehash(stored, DEFAULT_COST));
            assert_eq!(label(stored), name, "{stored}");
        }
    }
}
