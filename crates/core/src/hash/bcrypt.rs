//! bcrypt (`$2a$`, `$2b$`, `$2y$`), verified for users who moved in from a system that made
//! these hashes: Python's `bcrypt` and passlib (the seeds' FastAPI), PHP's `password_hash`,
//! Node's `bcrypt` and `bcryptjs`.
//!
//! The `bcrypt` crate does the work. Python's `bcrypt` package has wrapped this same crate
//! since 4.0, so for any (password, hash) we give their answer (`tests/vectors/
//! foreign-hashes.json` holds hashes made by the Python libraries themselves).
//!
//! The 72-byte rule: bcrypt reads at most 72 bytes of a password. Python's `bcrypt` 4.x and
//! passlib drop the rest without a word, so a hash they made from a 73-byte password
//! verifies with those 72 bytes and any tail. `bcrypt` 5.0 raises instead, for hashing and
//! checking alike, so it never made a hash from more than 72 bytes. We truncate, as 4.x and
//! passlib do: that lets their users in, and for a hash 5.0 made it only admits a tail after
//! 72 bytes the owner typed, which is what bcrypt has always done. (passlib also refuses a
//! password holding a NUL byte; it never hashed one, so no passlib hash matches one here.)
//!
//! The prefixes: `$2b$` is OpenBSD's current one, `$2y$` crypt_blowfish's name for the same
//! algorithm, and `$2a$` the older name; all three verify alike here, as in Python's `bcrypt`.
//! `$2x$` (crypt_blowfish's emulation of its own sign-extension bug) is refused: libraries
//! disagree on what it means.

use std::str::FromStr;

use bcrypt::HashParts;

use crate::Error;

/// The highest cost a stored hash may have. Each step doubles the work: cost 12 (the
/// default of Python's `bcrypt`, passlib and PHP 8.4) takes about 0.25 s on a small server,
/// 14 about 1 s of a hashing slot. Past that one row could hold a core for seconds per
/// guess, and every failed check is padded to the slowest stored format's time, so one
/// costly row would slow every wrong password on the server. No library's default comes
/// near it.
pub const MAX_COST: u32 = 14;

/// A stored bcrypt hash, read and checked for shape (not yet for cost).
pub(super) struct Stored<'a> {
    hash: &'a str,
    cost: u32,
}

/// Reads `stored` as bcrypt: 60 characters, `$2a$`, `$2b$` or `$2y$`, a two-digit cost
/// between 4 and 31, and a salt and digest in bcrypt's base64 (canonical, as the crate and
/// Python's `bcrypt` require).
pub(super) fn parse(stored: &str) -> Result<Stored<'_>, Error> {
    if !["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
    {
        return Err(Error::UnsupportedPasswordHash);
    }
    let parts = HashParts::from_str(stored).map_err(|_| Error::UnsupportedPasswordHash)?;
    let digits = &stored.as_bytes()[4..6];
    let cost = parts.get_cost();
    // The crate reads the cost with `str::parse`, which would take "+9".
    if !digits.iter().all(u8::is_ascii_digit) || !(4..=31).contains(&cost) {
        return Err(Error::UnsupportedPasswordHash);
    }
    Ok(Stored { hash: stored, cost })
}

impl Stored<'_> {
    pub(super) fn cost(&self) -> u32 {
        self.cost
    }

    /// Runs bcrypt over the first 72 bytes of `password`; the caller has checked the cost
    /// against [`MAX_COST`]. The crate compares the digests in constant time.
    pub(super) fn verify(&self, password: &str) -> Result<bool, Error> {
        bcrypt::verify(password.as_bytes(), self.hash).map_err(|_| Error::UnsupportedPasswordHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by Python's `bcrypt` 4.3 at cost 4: `bcrypt.hashpw(b"ab", bcrypt.gensalt(4))`.
    const AB: &str = "$2b$04$NRyIDPZ/ubF06ducaDCLB.G0170l8f0NaiZICxEBtXpKliBFd4PkG";

    #[test]
    fn the_three_prefixes_verify_alike_and_2x_is_refused() {
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let stored = format!("{prefix}{}", &AB[4..]);
            let parsed = parse(&stored).unwrap();
            assert_eq!(parsed.cost(), 4);
            assert_eq!(parsed.verify("ab"), Ok(true), "{prefix}");
            assert_eq!(parsed.verify("ac"), Ok(false), "{prefix}");
        }
        let twox = format!("$2x${}", &AB[4..]);
        assert!(parse(&twox).is_err());
    }

    #[test]
    fn only_72_bytes_count() {
        let long = "a".repeat(72);
        let stored = bcrypt::hash_with_salt(&long, 4, [7; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        let parsed = parse(&stored).unwrap();
        assert_eq!(parsed.verify(&long), Ok(true));
        assert_eq!(parsed.verify(&format!("{long}b")), Ok(true));
        assert_eq!(parsed.verify(&long[..71]), Ok(false));
    }

    #[test]
    fn malformed_costs_and_lengths_are_refused() {
        for stored in [
            AB.replacen("$04$", "$03$", 1),
            AB.replacen("$04$", "$32$", 1),
            AB.replacen("$04$", "$+9$", 1),
            AB.replacen("$04$", "$ 9$", 1),
            AB[..59].to_owned(),
            format!("{AB}x"),
            AB.replacen("NR", "é", 1),
        ] {
            assert!(parse(&stored).is_err(), "{stored}");
        }
    }
}
