//! The settings that pick one of a few named choices. Names are accepted in any case.

use super::text::choices;

/// Development generates what is missing; production refuses to start without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    #[default]
    Development,
    Production,
}

choices!(Environment {
    Development => "development",
    Production => "production",
});

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One line of text per event.
    #[default]
    Text,
    /// One JSON object per event, for a log shipper.
    Json,
}

choices!(LogFormat {
    Text => "text",
    Json => "json",
});

/// How access tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlg {
    /// A shared secret (`LATCHKEY_SECRET`); the seeds' choice and the default.
    Hs256,
    /// Ed25519 keys from the keys file, published at `/.well-known/jwks.json`.
    EdDsa,
}

choices!(JwtAlg {
    Hs256 => "HS256",
    EdDsa => "EdDSA",
});

/// Where emails go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailerKind {
    /// An SMTP relay (`LATCHKEY_SMTP_HOST` …).
    Smtp,
    /// `.eml` files in `LATCHKEY_MAIL_OUTBOX_DIR`, for development.
    File,
}

choices!(MailerKind {
    Smtp => "smtp",
    File => "file",
});

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this host.
    None,
}

choices!(SmtpTls {
    Starttls => "starttls",
    Tls => "tls",
    None => "none",
});

/// Which forwarding header a trusted proxy writes (and so which one is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx, HAProxy, AWS ALB, Vercel, Cloudflare…).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    Forwarded,
}

choices!(ForwardedHeader {
    XForwardedFor => "x-forwarded-for",
    Forwarded => "forwarded",
});

/// How `DATABASE_URL` reaches PostgreSQL (see `latchkey_store::postgres`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DatabasePooler {
    /// Directly, or through a pooler in session mode.
    #[default]
    None,
    /// Through a pooler in transaction mode: PgBouncer's `pool_mode = transaction`, Neon's
    /// `-pooler` endpoint.
    Transaction,
}

choices!(DatabasePooler {
    None => "none",
    Transaction => "transaction",
});

/// Where rate-limit counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitStore {
    /// This process's memory: one instance only.
    Memory,
    /// The database: shared by every instance on it, nothing else to run.
    Database,
    /// Redis (`REDIS_URL`): shared, and the fastest shared store.
    Redis,
}

choices!(RateLimitStore {
    Memory => "memory",
    Database => "database",
    Redis => "redis",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_print_as_documented() {
        assert_eq!("eddsa".parse(), Ok(JwtAlg::EdDsa));
        assert_eq!("HS256".parse(), Ok(JwtAlg::Hs256));
        assert_eq!(JwtAlg::EdDsa.to_string(), "EdDSA");
        assert_eq!("Production".parse(), Ok(Environment::Production));
        let err = "prod".parse::<Environment>().unwrap_err();
        assert_eq!(err, r#""prod" is not one of development, production"#);
    }
}
