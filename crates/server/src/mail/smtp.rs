//! SMTP delivery with lettre: STARTTLS (port 587, the default), implicit TLS (465), or plain
//! (for a relay on the same host only). SendGrid, SES, Postmark and friends all speak it.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Email, MailError, Mailer};
use crate::settings::{Settings, SmtpTls};

/// How long one delivery may take before it counts as a temporary failure.
const TIMEOUT: Duration = Duration::from_secs(20);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let mail = &settings.mail;
        let host = mail
            .smtp_host
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("LATCHKEY_SMTP_HOST is not set"))?;
        let builder = match mail.smtp_tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let port = mail.smtp_port.unwrap_or(match mail.smtp_tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        });
        let mut builder = builder.port(port).timeout(Some(TIMEOUT));
        if let Some(user) = &mail.smtp_user {
            let password = mail.smtp_password.as_ref().map(|p| p.expose().to_owned());
            builder =
                builder.credentials(Credentials::new(user.clone(), password.unwrap_or_default()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            from: sender(settings)?,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = message(&self.from, email)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // A refusal of our credentials (530, 535) fails every message alike: the relay's
            // fault, or ours, not this message's.
            Err(err) if refuses_us(&err) => Err(MailError::Unreachable(describe(&err))),
            // 5xx replies are the relay's final word about this message; a 4xx may pass
            // later.
            Err(err) if err.is_permanent() => Err(MailError::Permanent(describe(&err))),
            Err(err) if err.is_transient() => Err(MailError::Temporary(describe(&err))),
            // No reply at all: connection refused, TLS, a timeout, a dropped connection.
            Err(err) => Err(MailError::Unreachable(describe(&err))),
        }
    }
}

/// Whether the relay refused to let us send at all (authentication required or failed).
fn refuses_us(err: &lettre::transport::smtp::Error) -> bool {
    err.status()
        .is_some_and(|code| matches!(u16::from(code), 530 | 535))
}

/// The error without the message itself: lettre's text is about the conversation, but keep
/// only its first line so nothing long (or odd) reaches the outbox row and the log.
fn describe(err: &lettre::transport::smtp::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.chars().take(300).collect()
}

/// The configured sender, parsed once at start-up.
pub fn sender(settings: &Settings) -> anyhow::Result<Mailbox> {
    let from = &settings.mail.from;
    from.parse()
        .map_err(|err| anyhow::anyhow!("LATCHKEY_MAIL_FROM {from:?}: {err}"))
}

/// The MIME message for `email`: multipart/alternative, plain text first.
pub fn message(from: &Mailbox, email: &Email) -> Result<Message, MailError> {
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|err| MailError::Permanent(format!("recipient address refused: {err}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.content.subject.clone())
        // A Message-ID of our own (random, @ this host): relays and spam filters expect one.
        .message_id(None)
        .multipart(MultiPart::alternative_plain_html(
            email.content.text.clone(),
            email.content.html.clone(),
        ))
        .map_err(|err| MailError::Permanent(format!("cannot build the message: {err}")))
}
