//! The progress line an import draws on a terminal. Off a terminal (a log, a pipe, CI) it
//! draws nothing and the summary line alone says what happened.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::report::thousands;

/// Redrawn at most this often: a terminal is slower than the import.
const EVERY: Duration = Duration::from_millis(100);
const WIDTH: u64 = 30;

pub struct Progress {
    shown: bool,
    total: Option<u64>,
    drawn_at: Option<Instant>,
}

impl Progress {
    /// Drawn on stderr if it is a terminal.
    pub fn on_terminal() -> Progress {
        Progress {
            shown: std::io::stderr().is_terminal(),
            total: None,
            drawn_at: None,
        }
    }

    /// Never drawn.
    pub fn hidden() -> Progress {
        Progress {
            shown: false,
            total: None,
            drawn_at: None,
        }
    }

    pub(super) fn start(&mut self, total: Option<u64>) {
        self.total = total;
    }

    pub(super) fn update(&mut self, done: u64) {
        if !self.shown || self.drawn_at.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.drawn_at = Some(Instant::now());
        let line = match self.total {
            Some(total) if total > 0 => {
                let filled = (done.min(total) * WIDTH / total) as usize;
                format!(
                    "[{}{}] {} of {} users",
                    "#".repeat(filled),
                    " ".repeat(WIDTH as usize - filled),
                    thousands(done),
                    thousands(total)
                )
            }
            _ => format!("{} users read", thousands(done)),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2Kimporting {line}");
        let _ = err.flush();
    }

    /// Clears the line, so the report starts on a clean one.
    pub(super) fn finish(&mut self) {
        if self.shown && self.drawn_at.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
