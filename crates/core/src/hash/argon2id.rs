//! argon2id: the only format Latchkey writes.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), OWASP's recommended
//! minimum. Verification reads the parameters from the stored string, so a database row could
//! ask for any amount of work; parameters above [`MAX_COST`] are refused before anything is
//! allocated, which keeps a tampered row from becoming a memory or CPU bomb.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::Error;

/// The parameters new hashes are made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// The most work a stored hash may ask of a verification: 256 MiB, 16 passes, 16 lanes —
/// each on its own; together they are held to [`MAX_WORK_KIB`].
pub const MAX_COST: Cost = Cost {
    memory_kib: 256 * 1024,
    iterations: 16,
    parallelism: 16,
};

/// The most memory times passes a stored hash may ask (KiB): 1 GiB, about a second here,
/// as bcrypt's and scrypt's limits are. 256 MiB × 4 passes or 64 MiB × 16 fit (RFC 9106's
/// second choice, 64 MiB × 3, and every OWASP setting do); 256 MiB × 16, sixteen seconds of
/// one core per attempt, does not.
pub const MAX_WORK_KIB: u64 = 1 << 20;

/// argon2's working memory (19 MiB at the default cost), kept from one hash to the next.
///
/// Allocating it per hash costs a zeroing pass and thousands of page faults each time, and
/// the allocator keeps a copy per thread that ever hashed, so a server's memory grew by
/// hundreds of MiB under sign-in load. A server keeps one workspace per hashing thread
/// instead. Every block is written before it is read, so reused memory needs no clearing.
#[derive(Default)]
pub struct Workspace {
    blocks: Vec<Block>,
}

impl Workspace {
    /// Runs `f` on `count` blocks. Up to `keep` blocks stay allocated afterwards; a larger
    /// request (an old hash with a higher cost, up to [`MAX_COST`]) gets memory of its own
    /// for that one call.
    fn with_blocks<T>(
        &mut self,
        count: usize,
        keep: usize,
        f: impl FnOnce(&mut [Block]) -> T,
    ) -> T {
        if count > keep {
            return f(&mut vec![Block::default(); count]);
        }
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::default());
        }
        f(&mut self.blocks[..count])
    }
}

/// Hashes `password` with `salt` (16 fresh random bytes) at `cost` into a PHC string.
pub fn hash_password(password: &str, salt: &[u8; 16], cost: Cost) -> Result<String, Error> {
    hash_password_in(&mut Workspace::default(), password, salt, cost)
}

/// [`hash_password`] in a reusable [`Workspace`].
pub fn hash_password_in(
    workspace: &mut Workspace,
    password: &str,
    salt: &[u8; 16],
    cost: Cost,
) -> Result<String, Error> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|_| Error::Internal)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    run(workspace, &params, password, salt, &mut out)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| Error::Internal)?,
        salt: Some(Salt::new(salt).map_err(|_| Error::Internal)?),
        hash: Some(Output::new(&out).map_err(|_| Error::Internal)?),
    };
    Ok(hash.to_string())
}

/// Fills `out` with argon2id of `password` under `params`, in `workspace`.
fn run(
    workspace: &mut Workspace,
    params: &Params,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let keep = DEFAULT_COST.memory_kib as usize;
    workspace
        .with_blocks(params.block_count(), keep, |blocks| {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
        })
        .map_err(|_| Error::Internal)
}

/// A stored argon2id hash, read and checked for shape (not yet for cost).
pub(super) struct Stored {
    params: Params,
    salt: Salt,
    expected: Output,
}

/// Reads `stored` as an argon2id PHC string: `Err(UnsupportedPasswordHash)` unless it is
/// argon2id, version 0x13, with parameters, a salt and an output.
pub(super) fn parse(stored: &str) -> Result<Stored, Error> {
    let hash = PasswordHash::new(stored).map_err(|_| Error::UnsupportedPasswordHash)?;
    if hash.algorithm.as_str() != "argon2id" || hash.version != Some(0x13) {
        return Err(Error::UnsupportedPasswordHash);
    }
    let params = Params::try_from(&hash).map_err(|_| Error::UnsupportedPasswordHash)?;
    // Without a salt and an output there is nothing to compare: refuse, rather than let the
    // library answer "wrong password" instantly (a timing tell).
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err(Error::UnsupportedPasswordHash);
    };
    Ok(Stored {
        params,
        salt,
        expected,
    })
}

impl Stored {
    /// The parameters this hash was made with.
    pub(super) fn cost(&self) -> Cost {
        Cost {
            memory_kib: self.params.m_cost(),
            iterations: self.params.t_cost(),
            parallelism: self.params.p_cost(),
        }
    }

    /// Runs argon2id over `password`; the caller has checked the cost against [`MAX_COST`].
    pub(super) fn verify(&self, workspace: &mut Workspace, password: &str) -> Result<bool, Error> {
        let mut out = vec![0u8; self.expected.len()];
        run(
            workspace,
            &self.params,
            password,
            self.salt.as_ref(),
            &mut out,
        )
        .map_err(|_| Error::UnsupportedPasswordHash)?;
        // Output's equality is constant-time.
        Ok(Output::new(&out).map_err(|_| Error::UnsupportedPasswordHash)? == self.expected)
    }
}

impl Cost {
    /// True when a stored hash at this cost may be run: within [`MAX_COST`] and
    /// [`MAX_WORK_KIB`].
    pub(super) fn within_limits(&self) -> bool {
        self.within(&MAX_COST)
            && u64::from(self.memory_kib) * u64::from(self.iterations) <= MAX_WORK_KIB
    }

    /// True when no parameter is above `limit`'s.
    pub(super) fn within(&self, limit: &Cost) -> bool {
        self.memory_kib <= limit.memory_kib
            && self.iterations <= limit.iterations
            && self.parallelism <= limit.parallelism
    }

    /// True when some parameter is below `target`'s (rehash on the next sign-in).
    pub(super) fn weaker_than(&self, target: &Cost) -> bool {
        self.memory_kib < target.memory_kib
            || self.iterations < target.iterations
            || self.parallelism < target.parallelism
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{needs_rehash, verify_password, verify_password_in};

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
    fn a_reused_workspace_gives_the_argon2_crates_own_answers() {
        use argon2::PasswordHasher;
        let reference = |password: &str, cost: Cost| {
            let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params.unwrap())
                .hash_password_with_salt(password.as_bytes(), &SALT)
                .unwrap()
                .to_string()
        };
        let bigger = Cost {
            memory_kib: 256,
            iterations: 2,
            parallelism: 2,
        };
        // One workspace through several costs and passwords, dirty from each previous one.
        let mut workspace = Workspace::default();
        for (password, cost) in [("pw-one", bigger), ("pw-two", CHEAP), ("pw-one", bigger)] {
            let phc = hash_password_in(&mut workspace, password, &SALT, cost).unwrap();
            assert_eq!(phc, reference(password, cost));
            assert_eq!(verify_password_in(&mut workspace, password, &phc), Ok(true));
            assert_eq!(
                verify_password_in(&mut workspace, "pw-nope", &phc),
                Ok(false)
            );
        }
        assert_eq!(
            workspace.blocks.len(),
            256,
            "kept the largest default-sized request"
        );
    }

    #[test]
    fn a_hash_costlier_than_the_default_does_not_stay_in_the_workspace() {
        let mut workspace = Workspace::default();
        let costly = Cost {
            memory_kib: DEFAULT_COST.memory_kib * 2,
            iterations: 1,
            parallelism: 1,
        };
        let phc = hash_password_in(&mut workspace, "pw-pw-pw-pw", &SALT, costly).unwrap();
        assert_eq!(
            verify_password_in(&mut workspace, "pw-pw-pw-pw", &phc),
            Ok(true)
        );
        assert!(workspace.blocks.is_empty());
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
        // Each parameter within its own limit, but together sixteen seconds of work.
        for costly in ["m=64,t=1000,p=1", "m=262144,t=16,p=1", "m=131072,t=9,p=4"] {
            let slow = phc.replace("m=64,t=1,p=1", costly);
            assert_eq!(
                verify_password("pw-pw-pw-pw", &slow),
                Err(Error::PasswordHashTooCostly),
                "{costly}"
            );
        }
        // The heaviest that may run: RFC 9106's second recommendation is well inside it.
        let rfc = Cost {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 4,
        };
        assert!(rfc.within_limits());
        assert!(
            Cost {
                memory_kib: 256 * 1024,
                iterations: 4,
                parallelism: 1
            }
            .within_limits()
        );
    }
}
