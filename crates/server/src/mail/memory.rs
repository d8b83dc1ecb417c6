//! An in-memory mailer for unit tests: keeps what it is given, or fails on demand.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Email, MailError, Mailer};

#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Email>>,
    down: AtomicBool,
}

impl MemoryMailer {
    /// Every email delivered so far.
    pub fn sent(&self) -> Vec<Email> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// While down, every send fails with a temporary error, like an SMTP outage.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl Mailer for MemoryMailer {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn send(&self, email: &Email) -> Result<(), MailError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(MailError::Unreachable(
                "the in-memory mailer is down".into(),
            ));
        }
        self.sent
            .lock()
            .map_err(|_| MailError::Temporary("poisoned".into()))?
            .push(email.clone());
        Ok(())
    }
}
