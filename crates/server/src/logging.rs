//! Log output: one event, one line.
//!
//! Some log fields can carry a client's text (an error quoting the request it refused), and a
//! line break in that text would let the client start a line of its own that reads like the
//! server's. Every event is written through [`OneLine`], which escapes line breaks inside an
//! event, so each line a reader or a log shipper sees is one event the server wrote.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Wraps a [`MakeWriter`] (stdout, a file) so each event it writes stays on one line.
pub struct OneLine<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = OneLineWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter(self.0.make_writer())
    }
}

/// The writer for one event. tracing-subscriber formats an event into one buffer and hands
/// it over with a single `write_all`, ending in the event's own newline.
pub struct OneLineWriter<W>(W);

impl<W: Write> Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // Nearly every event holds none of the bytes a line break can start with: write it
        // as it is, without a copy.
        let body = buf.strip_suffix(b"\n").unwrap_or(buf);
        if !body
            .iter()
            .any(|b| matches!(b, b'\n' | b'\r' | 0x0b | 0x0c | 0xc2 | 0xe2))
        {
            return self.0.write_all(buf);
        }
        self.0.write_all(&one_line(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `event` with every line break but a final `\n` escaped: CR and LF as `\r` and `\n`, the
/// other characters some readers break lines at (VT, FF, NEL, U+2028, U+2029) as `\u{…}`.
pub fn one_line(event: &[u8]) -> Vec<u8> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (event, &b""[..]),
    };
    let mut out = Vec::with_capacity(event.len() + 16);
    match std::str::from_utf8(body) {
        Ok(text) => {
            for c in text.chars() {
                match c {
                    '\n' => out.extend_from_slice(b"\\n"),
                    '\r' => out.extend_from_slice(b"\\r"),
                    '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                        out.extend_from_slice(c.escape_unicode().to_string().as_bytes())
                    }
                    c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
        }
        // Not text (never from tracing's formatter): still no raw CR or LF.
        Err(_) => {
            for &b in body {
                match b {
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b => out.push(b),
                }
            }
        }
    }
    out.extend_from_slice(end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_inside_an_event_are_escaped_and_the_last_newline_kept() {
        let event = "INFO refused: name=\"x\r\nERROR forged\" \u{2028}y\u{85}\n";
        let out = String::from_utf8(one_line(event.as_bytes())).unwrap();
        assert_eq!(
            out,
            "INFO refused: name=\"x\\r\\nERROR forged\" \\u{2028}y\\u{85}\n"
        );
        assert_eq!(out.lines().count(), 1);
        assert_eq!(one_line(b"plain"), b"plain");
        assert_eq!(one_line(b"\xff\n\xfe\n"), b"\xff\\n\xfe\n");
    }

    #[test]
    fn each_event_through_the_writer_is_one_line() {
        use std::sync::{Arc, Mutex};
        let written = Arc::new(Mutex::new(Vec::new()));
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let sink = written.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(OneLine(move || Sink(sink.clone())))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(name = %"Ann\r\n2026-01-01T00:00:00Z ERROR forged", "first");
            tracing::warn!("second\nline");
            tracing::info!("third, plain");
        });
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[2].ends_with("third, plain"));
        assert!(lines[0].contains("Ann\\r\\n2026-01-01T00:00:00Z ERROR forged"));
        assert!(lines[1].ends_with("second\\nline"));
    }
}
