//! Email: the templates, the transports, and the durable outbox that connects them.
//!
//! # Layout
//!
//! - [`templates`]: which emails there are, their data, and rendering them (subject, text,
//!   HTML) with minijinja; [`builtin`] holds the default templates compiled in,
//!   [`overrides`] reads the operator's (`LATCHKEY_TEMPLATES_DIR`) and checks them all at
//!   start, and [`locale`] the languages they are written in.
//! - [`smtp`], [`file`], [`memory`]: the three [`Mailer`]s — SMTP for production (SendGrid
//!   and SES speak it), `.eml` files in a folder for development, and an in-memory sink for
//!   unit tests.
//! - [`outbox`]: flows write emails into the database in the same transaction as the change
//!   that caused them; the outbox worker renders and sends them, with retries and backoff.

pub mod builtin;
pub mod file;
pub mod locale;
pub mod memory;
pub mod outbox;
pub mod overrides;
pub mod smtp;
pub mod templates;

use std::sync::Arc;

use crate::settings::{MailerKind, Settings};

/// A rendered email, ready for a transport.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub content: templates::Rendered,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Worth retrying: the relay is down, refused for now, or timed out.
    #[error("temporary: {0}")]
    Temporary(String),
    /// Retrying cannot help (e.g. the relay refuses the address for good).
    #[error("permanent: {0}")]
    Permanent(String),
    /// The relay itself failed: out of reach, no TLS, timed out, or refused our credentials.
    /// Retried like `Temporary`; unlike a refusal of one message (which any user can cause
    /// by registering a bouncing address), it is what `/readyz` reports as a mailer outage.
    #[error("relay failed: {0}")]
    Unreachable(String),
}

/// Something that delivers an email.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// A short name for logs and `/readyz`: `smtp`, `file` or `memory`.
    fn name(&self) -> &'static str;

    async fn send(&self, email: &Email) -> Result<(), MailError>;
}

/// The mailer the settings ask for: SMTP when a host is configured (or `LATCHKEY_MAILER=smtp`),
/// otherwise the development file outbox.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn Mailer>> {
    Ok(match settings.mailer() {
        MailerKind::Smtp => Arc::new(smtp::SmtpMailer::new(settings)?),
        MailerKind::File => Arc::new(file::FileMailer::new(settings)?),
    })
}
