//! The development mailer: each email becomes an `.eml` file in a folder.
//!
//! Open the file (any mail client, or a text editor) to follow its link. The log names the
//! file but never the link: a reset link is as good as a password, and logs travel further
//! than a local folder.

use std::path::PathBuf;

use super::{Email, MailError, Mailer, smtp};
use crate::settings::Settings;

pub struct FileMailer {
    dir: PathBuf,
    from: lettre::message::Mailbox,
}

impl FileMailer {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let dir = &settings.mail.outbox_dir;
        std::fs::create_dir_all(dir)
            .map_err(|err| anyhow::anyhow!("cannot create {}: {err}", dir.display()))?;
        tracing::warn!(dir = %dir.display(), "emails are written to this folder, not sent; set LATCHKEY_SMTP_HOST to send them");
        Ok(FileMailer {
            dir: dir.clone(),
            from: smtp::sender(settings)?,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    fn name(&self) -> &'static str {
        "file"
    }

    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = smtp::message(&self.from, email)?;
        let name = format!(
            "{}-{}.eml",
            time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
            uuid::Uuid::from_bytes(
                latchkey_core::random::bytes()
                    .map_err(|_| MailError::Unreachable("no randomness".into()))?
            )
            .simple()
        );
        let path = self.dir.join(name);
        let bytes = message.formatted();
        tokio::task::spawn_blocking({
            let path = path.clone();
            move || crate::files::write_private(&path, &bytes)
        })
        .await
        .map_err(|err| MailError::Unreachable(err.to_string()))?
        .map_err(|err| MailError::Unreachable(format!("{}: {err}", path.display())))?;
        tracing::info!(file = %path.display(), subject = %email.content.subject, "email written to the development outbox");
        Ok(())
    }
}
