//! The one place the core draws randomness.
//!
//! Logic never calls this itself: callers draw bytes here (or anywhere else) and pass them in,
//! which keeps the logic deterministic under test. getrandom uses the OS on native targets and
//! `crypto.getRandomValues` on wasm32 (its `wasm_js` backend).

use crate::Error;

/// `N` bytes from the platform's cryptographically secure generator.
pub fn bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| Error::Internal)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_draws_differ() {
        let a = super::bytes::<32>().unwrap();
        let b = super::bytes::<32>().unwrap();
        assert_ne!(a, b);
    }
}
