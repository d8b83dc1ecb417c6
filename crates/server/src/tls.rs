//! TLS on the connections the server opens (PostgreSQL through the store, Redis, SMTP), and
//! what to say when one fails at start.
//!
//! Every client uses rustls with ring, and no OpenSSL: sqlx and lettre choose ring
//! themselves; the redis crate asks rustls for the process's default provider, which
//! [`install_provider`] makes ring before anything connects (left to itself, rustls picks one
//! from its crate features, and panics if a dependency ever compiled in a second).

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Makes ring the process's rustls provider. Idempotent.
pub fn install_provider() {
    // An error only means a provider is installed already; it stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The PEM file of the CA certificates to trust instead of the public roots: readable, and
/// holding at least one certificate, each of which parses.
pub fn read_ca_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let pem = std::fs::read(path)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| anyhow::anyhow!("{} is not PEM: {err}", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", path.display());
    }
    Ok(pem)
}

/// Where a URL points, for an error message: `host:port`, never its user, password or
/// query (a URL that does not parse is not shown at all).
pub fn endpoint(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "(the URL does not parse)".into();
    };
    let default_port = match parsed.scheme() {
        "postgres" | "postgresql" => Some(5432),
        "redis" | "rediss" => Some(6379),
        _ => None,
    };
    match (parsed.host_str(), parsed.port().or(default_port)) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        // SQLite, or a Unix socket: a path, which holds no secret.
        (None, _) => parsed.path().to_owned(),
    }
}

/// A connection error in words: when a TLS handshake failed, rustls's reason, with `hint`
/// when the server's certificate has an issuer not trusted here.
pub fn explain(err: &(dyn Error + 'static), hint: &str) -> String {
    let mut next = Some(err);
    while let Some(this) = next {
        if let Some(tls) = rustls_error(this) {
            let unknown_issuer = matches!(
                tls,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            );
            return if unknown_issuer {
                format!(
                    "TLS handshake failed: {tls} (the server's certificate is not signed by a CA trusted here; {hint})"
                )
            } else {
                format!("TLS handshake failed: {tls}")
            };
        }
        next = this.source();
    }
    err.to_string()
}

/// rustls's error, where a TLS stream wraps it in an `io::Error` (as tokio-rustls and sqlx
/// do; the redis crate holds that in an `Arc<dyn Error>`). Neither `io::Error::source` nor
/// `Arc`'s return the error they wrap, so both are opened here.
fn rustls_error<'e>(err: &'e (dyn Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(shared) = err.downcast_ref::<Arc<dyn Error + Send + Sync>>() {
        return rustls_error(&**shared);
    }
    let io = err.downcast_ref::<std::io::Error>()?;
    rustls_error(io.get_ref()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_the_host_and_port_only() {
        let cases = [
            (
                "postgres://u:secret@db.example.com/app?sslmode=require",
                "db.example.com:5432",
            ),
            ("postgresql://u:secret@db:6543/app", "db:6543"),
            (
                "rediss://default:secret@x.upstash.io:6379",
                "x.upstash.io:6379",
            ),
            ("redis://127.0.0.1", "127.0.0.1:6379"),
            ("postgres://u:pa?s/s@db/app", "(the URL does not parse)"),
        ];
        for (url, shown) in cases {
            assert_eq!(endpoint(url), shown, "{url}");
        }
    }

    #[test]
    fn a_refused_certificate_is_named_through_an_io_error() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let sqlx = sqlx_like(io);
        let words = explain(&sqlx, "give the CA");
        assert!(
            words.starts_with("TLS handshake failed: invalid peer certificate: UnknownIssuer"),
            "{words}"
        );
        assert!(words.contains("give the CA"), "{words}");
        // The redis crate's shape: its source is an `Arc<dyn Error>` holding the io::Error.
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let shared: Arc<dyn Error + Send + Sync> = Arc::new(io);
        assert!(explain(&shared, "x").contains("UnknownIssuer (the server's"));
        let other = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(explain(&other, "x"), other.to_string());
    }

    /// An error whose source is the `io::Error`, as sqlx's `Error::Io` is.
    fn sqlx_like(io: std::io::Error) -> impl Error + 'static {
        #[derive(Debug, thiserror::Error)]
        #[error("error communicating with database: {0}")]
        struct Wrapper(#[source] std::io::Error);
        Wrapper(io)
    }
}
