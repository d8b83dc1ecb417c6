//! scrypt, verified for users who moved in from Better Auth (its default `salt:key` format)
//! or from passlib (`$scrypt$ln=…,r=…,p=…$salt$digest`).
//!
//! Better Auth, as read in `@better-auth/utils/password` 0.5.1 (what better-auth 1.7 ships):
//! `hashPassword` draws 16 random bytes, writes them as 32 lower-case hex characters, and
//! stores `<salt>:<key>`, the key being scrypt(password.normalize("NFKC"), salt, N = 16384,
//! r = 16, p = 1, 64 bytes) in lower-case hex. The salt scrypt is given is the hex *text* (its
//! 32 ASCII bytes), not the 16 bytes it spells; the password is NFKC-normalised first.
//! `verifyPassword` compares lower-case hex strings, so a key in capitals never matches
//! there: it is refused here as malformed, and so is anything but 128 hex digits.
//!
//! passlib's `scrypt`: N = 2^ln, the password's UTF-8 bytes as they are, salt and digest in
//! standard base64 without padding (the salt decoded before use), a 32-byte digest.
//!
//! Both are checked against [`MAX_MEMORY`] and [`MAX_WORK`] before anything runs: scrypt's
//! parameters are in the stored string, and `ln=30` would ask for a terabyte.

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use scrypt::Params;
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;

use crate::Error;

/// The most memory a stored hash may ask for: 128·r·(N + p) bytes, at most 256 MiB (the
/// same bound as argon2id's). Better Auth's takes 32 MiB, passlib's default 64 MiB.
pub const MAX_MEMORY: u64 = 256 << 20;

/// The most work a stored hash may ask for, as N·r·p (scrypt's time grows with it): 2^22,
/// 16 times Better Auth's and 8 times passlib's default, about a second on a small server.
pub const MAX_WORK: u64 = 1 << 22;

/// Better Auth's fixed parameters (`@better-auth/utils/password`).
const BETTER_AUTH: (u8, u32, u32) = (14, 16, 1);
const BETTER_AUTH_KEY_LEN: usize = 64;
/// passlib writes, and reads, only 32-byte digests.
const PASSLIB_DIGEST_LEN: usize = 32;

/// passlib's base64: the standard alphabet, no padding; Python's decoder ignores stray
/// trailing bits, so this one does too.
const PASSLIB_B64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// A stored scrypt hash, read and checked for shape (not yet for cost).
pub(super) struct Stored {
    pub(super) log_n: u8,
    pub(super) r: u32,
    pub(super) p: u32,
    salt: Vec<u8>,
    expected: Vec<u8>,
    /// Better Auth normalises the password to NFKC before hashing; passlib does not.
    nfkc: bool,
}

/// Reads `stored` as Better Auth's `<hex salt>:<hex key>`.
pub(super) fn parse_better_auth(stored: &str) -> Result<Stored, Error> {
    let (salt, key) = stored
        .split_once(':')
        .ok_or(Error::UnsupportedPasswordHash)?;
    let salt_ok = (1..=64).contains(&salt.len()) && salt.bytes().all(|b| b.is_ascii_hexdigit());
    let key_ok = key.len() == 2 * BETTER_AUTH_KEY_LEN
        && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !salt_ok || !key_ok {
        return Err(Error::UnsupportedPasswordHash);
    }
    let (log_n, r, p) = BETTER_AUTH;
    Ok(Stored {
        log_n,
        r,
        p,
        salt: salt.as_bytes().to_vec(),
        expected: decode_hex(key),
        nfkc: true,
    })
}

/// Reads `stored` as passlib's `$scrypt$ln=<n>,r=<n>,p=<n>$<salt>$<digest>` (the parameters
/// in that order, as passlib requires).
pub(super) fn parse_passlib(stored: &str) -> Result<Stored, Error> {
    let malformed = || Error::UnsupportedPasswordHash;
    let rest = stored.strip_prefix("$scrypt$").ok_or_else(malformed)?;
    let mut parts = rest.split('$');
    let (Some(params), Some(salt), Some(digest), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let mut params = params.split(',');
    let (Some(ln), Some(r), Some(p), None) =
        (params.next(), params.next(), params.next(), params.next())
    else {
        return Err(malformed());
    };
    let number = |field: &str, name: &str| -> Result<u32, Error> {
        let digits = field.strip_prefix(name).ok_or_else(malformed)?;
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        digits.parse().map_err(|_| malformed())
    };
    let log_n = u8::try_from(number(ln, "ln=")?).map_err(|_| malformed())?;
    let (r, p) = (number(r, "r=")?, number(p, "p=")?);
    // scrypt is defined for N > 1 and r, p ≥ 1; anything else is not a hash at all.
    if log_n == 0 || r == 0 || p == 0 {
        return Err(malformed());
    }
    let salt = PASSLIB_B64.decode(salt).map_err(|_| malformed())?;
    let expected = PASSLIB_B64.decode(digest).map_err(|_| malformed())?;
    if salt.len() > 64 || expected.len() != PASSLIB_DIGEST_LEN {
        return Err(malformed());
    }
    Ok(Stored {
        log_n,
        r,
        p,
        salt,
        expected,
        nfkc: false,
    })
}

impl Stored {
    /// True when the memory and work are within [`MAX_MEMORY`] and [`MAX_WORK`] (and N > 1,
    /// r and p at least 1, which parsing already made sure of). In 128-bit arithmetic:
    /// nothing overflows.
    pub(super) fn within_limits(log_n: u8, r: u32, p: u32) -> bool {
        if log_n == 0 || log_n >= 64 || r == 0 || p == 0 {
            return false;
        }
        let (n, r, p) = (1u128 << log_n, u128::from(r), u128::from(p));
        128 * r * (n + p) <= u128::from(MAX_MEMORY) && n * r * p <= u128::from(MAX_WORK)
    }

    /// Runs scrypt over `password`; the caller has checked [`Stored::within_limits`].
    pub(super) fn verify(&self, password: &str) -> Result<bool, Error> {
        if !Self::within_limits(self.log_n, self.r, self.p) {
            return Err(Error::PasswordHashTooCostly);
        }
        let params =
            Params::new(self.log_n, self.r, self.p).map_err(|_| Error::UnsupportedPasswordHash)?;
        let normalised: String;
        let password = if self.nfkc {
            normalised = password.nfkc().collect();
            normalised.as_str()
        } else {
            password
        };
        let mut out = vec![0u8; self.expected.len()];
        scrypt::scrypt(password.as_bytes(), &self.salt, &params, &mut out)
            .map_err(|_| Error::UnsupportedPasswordHash)?;
        Ok(out.ct_eq(&self.expected).into())
    }
}

/// Lower-case hex, already checked to be pairs of `[0-9a-f]`.
fn decode_hex(hex: &str) -> Vec<u8> {
    let nibble = |c: u8| {
        if c.is_ascii_digit() {
            c - b'0'
        } else {
            c - b'a' + 10
        }
    };
    hex.as_bytes()
        .chunks(2)
        .map(|pair| nibble(pair[0]) << 4 | nibble(pair[1]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_take_better_auth_and_passlib_and_refuse_ln_30() {
        assert!(Stored::within_limits(14, 16, 1), "Better Auth");
        assert!(Stored::within_limits(16, 8, 1), "passlib's default");
        assert!(
            Stored::within_limits(17, 8, 1),
            "the scrypt crate's recommendation"
        );
        assert!(!Stored::within_limits(30, 8, 1), "a terabyte");
        assert!(
            !Stored::within_limits(18, 8, 1),
            "256 MiB plus the p blocks"
        );
        assert!(!Stored::within_limits(10, 1, 1 << 20), "a million lanes");
        assert!(!Stored::within_limits(63, u32::MAX, u32::MAX));
        assert!(!Stored::within_limits(0, 8, 1), "N must be above 1");
        assert!(!Stored::within_limits(4, 0, 1));
        assert!(!Stored::within_limits(4, 8, 0));
    }

    #[test]
    fn better_auth_shapes_other_than_hex_salt_and_128_lower_case_hex_are_refused() {
        let key = "ab".repeat(64);
        assert!(parse_better_auth(&format!("00ff:{key}")).is_ok());
        for stored in [
            format!(":{key}"),
            format!("zz:{key}"),
            format!("00ff:{}", key.to_uppercase()),
            format!("00ff:{}", &key[1..]),
            format!("00ff:{key}:00"),
            format!("{}:{key}", "a".repeat(65)),
            "00ff".to_owned(),
        ] {
            assert!(parse_better_auth(&stored).is_err(), "{stored}");
        }
    }

    #[test]
    fn passlib_shapes_are_read_strictly() {
        let digest = PASSLIB_B64.encode([1u8; 32]);
        let good = format!("$scrypt$ln=4,r=8,p=1$c2FsdA${digest}");
        let parsed = parse_passlib(&good).unwrap();
        assert_eq!((parsed.log_n, parsed.r, parsed.p), (4, 8, 1));
        assert_eq!(parsed.salt, b"salt");
        for stored in [
            good.replace("ln=4,r=8,p=1", "r=8,ln=4,p=1"),
            good.replace("ln=4", "ln=-4"),
            good.replace("ln=4", "ln=256"),
            good.replace("ln=4", "ln="),
            good.replace("ln=4", "ln=0"),
            good.replace("r=8", "r=0"),
            good.replace("p=1", "p=1,x=2"),
            good.replace(&digest, &PASSLIB_B64.encode([1u8; 64])),
            format!("{good}$"),
            good.replace("c2FsdA", "c2F*dA"),
        ] {
            assert!(parse_passlib(&stored).is_err(), "{stored}");
        }
    }
}
