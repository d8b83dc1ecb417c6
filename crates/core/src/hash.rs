//! argon2id password hashing (native only, feature `hashing`).
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), OWASP's recommended
//! minimum. Verification reads the parameters from the stored string, so a database row could
//! ask for any amount of work; [`verify_password`] refuses parameters above [`MAX_COST`] before
//! allocating anything, which keeps a tampered row from becoming a memory or CPU bomb.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::Error;

/// The parameters new hashes are made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
pub const DEFAULT_COST: Cost = Cost {
    memory_kib: 19_456,
    iterations: 2,
    parallelism: 1,
};

/// The most work a stored hash may ask of a verification: 256 MiB, 16 passes, 16 lanes.
pub const MAX_COST: Cost = Cost {
    memory_kib: 256 * 1024,
    iterations: 16,
    parallelism: 16,
};

/// Hashes `password` with `salt` (16 fresh random bytes) at `cost` into a PHC string.
pub fn hash_password(password: &str, salt: &[u8; 16], cost: Cost) -> Result<String, Error> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|_| Error::Internal)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(password.as_bytes(), salt)
        .map(|hash| hash.to_string())
        .map_err(|_| Error::Internal)
}

/// Checks `password` against the PHC string `stored`.
///
/// `Ok(false)` means "wrong password"; an error means the stored string itself cannot be
/// used (malformed, not argon2id, or over [`MAX_COST`]).
pub fn verify_password(password: &str, stored: &str) -> Result<bool, Error> {
    let hash = PasswordHash::new(stored).map_err(|_| Error::UnsupportedPasswordHash)?;
    // Without a salt and an output there is nothing to compare: refuse, rather than let the
    // library answer "wrong password" instantly (a timing tell).
    if hash.algorithm.as_str() != "argon2id"
        || hash.version != Some(0x13)
        || hash.salt.is_none()
        || hash.hash.is_none()
    {
        return Err(Error::UnsupportedPasswordHash);
    }
    let params = Params::try_from(&hash).map_err(|_| Error::UnsupportedPasswordHash)?;
    if params.m_cost() > MAX_COST.memory_kib
        || params.t_cost() > MAX_COST.iterations
        || params.p_cost() > MAX_COST.parallelism
    {
        return Err(Error::PasswordHashTooCostly);
    }
    match Argon2::default().verify_password(password.as_bytes(), &hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(_) => Err(Error::UnsupportedPasswordHash),
    }
}

/// True when `stored` was made with weaker parameters than `cost` (rehash on next sign-in).
pub fn needs_rehash(stored: &str, cost: Cost) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return true;
    };
    hash.algorithm.as_str() != "argon2id"
        || params.m_cost() < cost.memory_kib
        || params.t_cost() < cost.iterations
        || params.p_cost() < cost.parallelism
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: [u8; 16] = *b"0123456789abcdef";
    /// Cheap parameters keep the tests fast; the default cost has its own test.
    const CHEAP: Cost = Cost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn the_default_cost_makes_an_owasp_phc_string_that_verifies() {
        let phc = hash_password("correct horse", &SALT, DEFAULT_COST).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_eq!(verify_password("correct horse", &phc), Ok(true));
        assert_eq!(verify_password("correct horsf", &phc), Ok(false));
        assert!(!needs_rehash(&phc, DEFAULT_COST));
    }

    #[test]
    fn weaker_hashes_are_flagged_for_rehash() {
        let phc = hash_password("pw-pw-pw-pw", &SALT, CHEAP).unwrap();
        assert!(needs_rehash(&phc, DEFAULT_COST));
    }

    #[test]
    fn absurd_stored_parameters_are_refused_without_doing_the_work() {
        let phc = hash_password("pw-pw-pw-pw", &SALT, CHEAP).unwrap();
        // 4 GiB of memory: computing this would take seconds and might not fit at all.
        let bomb = phc.replace("m=64,t=1,p=1", "m=4194304,t=1,p=1");
        let started = std::time::Instant::now();
        assert_eq!(
            verify_password("pw-pw-pw-pw", &bomb),
            Err(Error::PasswordHashTooCostly)
        );
        eprintln!("refused a 4 GiB hash in {:?}", started.elapsed());
        let slow = phc.replace("m=64,t=1,p=1", "m=64,t=1000,p=1");
        assert_eq!(
            verify_password("pw-pw-pw-pw", &slow),
            Err(Error::PasswordHashTooCostly)
        );
    }

    #[test]
    fn garbage_and_foreign_hashes_are_errors_not_panics() {
        let argon2i = hash_password("x", &SALT, CHEAP)
            .unwrap()
            .replace("argon2id", "argon2i");
        for stored in [
            "",
            "$",
            "plaintext",
            "$argon2id$",
            "$argon2id$v=19$m=abc,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
            "$argon2id$v=19$m=64,t=1,p=1",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
            "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5nq/6R1Sg1h3WQ3vvvUU2h7sP/YS/J.",
            argon2i.as_str(),
        ] {
            assert_eq!(
                verify_password("x", stored),
                Err(Error::UnsupportedPasswordHash),
                "{stored}"
            );
        }
    }
}
