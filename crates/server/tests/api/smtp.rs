//! A real SMTP listener on 127.0.0.1 for the tests: it speaks enough ESMTP for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it accepts, and can be
//! stopped and started again on the same port to stage an outage. It refuses, for good
//! (550), any recipient at `bounce.example`, as a relay refuses an unknown user.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::{JoinHandle, JoinSet};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    /// When the sink accepted it (the mail_delivery bench reads it).
    #[allow(dead_code)]
    pub at: Instant,
}

impl Received {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a MIME message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The Message-ID header, if any.
    pub fn message_id(&self) -> Option<String> {
        self.parsed().message_id().map(str::to_owned)
    }

    /// The plain-text part, decoded.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .expect("a text part")
            .into_owned()
    }

    /// The HTML part, decoded.
    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .expect("an HTML part")
            .into_owned()
    }

    /// The first link in the text part.
    pub fn link(&self) -> String {
        let text = self.text();
        let start = text.find("http").expect("a link in the email");
        text[start..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Tells the log-hygiene capture about this email's one-time token, if it has one.
    fn record_secrets(&self) {
        let text = self.parsed().body_text(0).unwrap_or_default().into_owned();
        for after in text.split("#token=").skip(1) {
            crate::capture::secret(after.split_whitespace().next().unwrap_or_default());
        }
    }

    /// The one-time token in the link's fragment.
    pub fn token(&self) -> String {
        let link = self.link();
        let (_, token) = link.split_once("#token=").expect("a token in the link");
        token.to_owned()
    }
}

#[derive(Default)]
struct Inbox {
    messages: Mutex<Vec<Received>>,
    arrived: Notify,
}

pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Inbox>,
    running: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl SmtpSink {
    /// A sink on a free port.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            inbox: Arc::default(),
            running: Mutex::new(None),
        };
        sink.serve(listener);
        sink
    }

    fn serve(&self, listener: TcpListener) {
        let (stop, mut stopped) = oneshot::channel();
        let inbox = self.inbox.clone();
        let task = tokio::spawn(async move {
            // Dropping the set on stop aborts open connections too, as a crashed relay would.
            let mut sessions = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            stream.set_nodelay(true).ok();
                            sessions.spawn(session(stream, inbox.clone()));
                        }
                    }
                }
            }
        });
        *self.running.lock().unwrap() = Some((stop, task));
    }

    /// Stops listening and drops every open connection.
    pub async fn stop(&self) {
        let running = self.running.lock().unwrap().take();
        if let Some((stop, task)) = running {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&self) {
        self.stop().await;
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the SMTP sink again");
        self.serve(listener);
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.inbox.messages.lock().unwrap().clone()
    }

    /// The messages sent to `to`.
    pub fn to(&self, to: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// Waits until `to` has `count` messages whose subject contains `subject`; returns the
    /// last of them.
    pub async fn nth(&self, to: &str, subject: &str, count: usize) -> Received {
        let matching = |sink: &SmtpSink| -> Vec<Received> {
            sink.to(to)
                .into_iter()
                .filter(|m| m.subject().contains(subject))
                .collect()
        };
        let wait = async {
            loop {
                let arrived = self.inbox.arrived.notified();
                let got = matching(self);
                if got.len() >= count {
                    return got[count - 1].clone();
                }
                arrived.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{to} did not get {count} email(s) about {subject:?}; it has {:?}",
                    self.to(to)
                        .iter()
                        .map(Received::subject)
                        .collect::<Vec<_>>()
                )
            })
    }

    /// The first message to `to` whose subject contains `subject` (waiting for it).
    pub async fn find(&self, to: &str, subject: &str) -> Received {
        self.nth(to, subject, 1).await
    }
}

async fn session(stream: TcpStream, inbox: Arc<Inbox>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 latchkey-test-sink ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-latchkey-test-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 OK\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") || upper.starts_with("RSET") {
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            let address = command["RCPT TO:".len()..].trim();
            let address = address.split_whitespace().next().unwrap_or_default();
            let address = address.trim_matches(['<', '>']);
            if address.ends_with("@bounce.example") {
                b"550 5.1.1 no such user here\r\n"
            } else {
                to.push(address.to_owned());
                b"250 OK\r\n"
            }
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut raw = Vec::new();
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" || line == b".\n" {
                    break;
                }
                // RFC 5321 §4.5.2: a leading dot was doubled by the sender.
                let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
                raw.extend_from_slice(unstuffed);
            }
            let received = Received {
                to: std::mem::take(&mut to),
                raw,
                at: Instant::now(),
            };
            received.record_secrets();
            inbox.messages.lock().unwrap().push(received);
            inbox.arrived.notify_waiters();
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
