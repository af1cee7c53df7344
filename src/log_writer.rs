//! The writer under every log line: each formatted event passes `idgap_net::redact` before it
//! reaches stderr, whatever its level and whichever crate emitted it (a `trace!` in a
//! dependency included), so a log line cannot carry a credential a server echoed.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Wraps a [`MakeWriter`] so every write is redacted.
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

/// One event's writer. The fmt layer hands it a whole formatted line in one `write_all`, so
/// a secret is never split across two writes.
pub struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0
            .write_all(idgap_net::redact::server_text(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_level_is_redacted() {
        let _ = idgap_net::SecretString::new("log-writer-canary-secret");
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(Redacting(move || sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(body = "echo log-writer-canary-secret", "trace");
            tracing::error!("error: client_secret=log-writer-canary-secret&x=1");
            tracing::info!("Authorization: Bearer unknown-token-value-123");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("TRACE") && text.contains("ERROR"), "{text}");
        assert!(!text.contains("log-writer-canary-secret"), "{text}");
        assert!(!text.contains("unknown-token-value-123"), "{text}");
    }
}
