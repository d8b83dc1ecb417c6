//! The signing secret.

use crate::Error;

/// A shared HMAC secret of at least [`Secret::MIN_LEN`] bytes.
///
/// `Debug` prints a placeholder, so a secret cannot leak through a log line or a panic message.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
    pub const MIN_LEN: usize = 32;

    /// Accepts the secret's bytes, refusing anything shorter than 32 bytes.
    pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let bytes = bytes.into();
        if bytes.len() < Self::MIN_LEN {
            return Err(Error::WeakSecret { min: Self::MIN_LEN });
        }
        Ok(Secret(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused() {
        assert_eq!(
            Secret::parse(vec![7u8; 31]).unwrap_err(),
            Error::WeakSecret { min: 32 }
        );
        assert!(Secret::parse(vec![7u8; 32]).is_ok());
        assert!(Secret::parse("").is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::parse("a-very-long-secret-that-must-never-be-logged!").unwrap();
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
    }
}
