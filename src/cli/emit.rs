//! The CLI's final writers. Every result and every error line leaves through here, after
//! rendering, so a format added later cannot forget what they guarantee:
//!
//! - **No secret.** What `scan` and `demo` print, in every format, and every error line pass
//!   through `idgap_net::redact`. (`idgap connect` prints the Secret manifest it was asked
//!   for, credentials included, by design: [`stdout_verbatim`]; its errors still come through
//!   [`error_line`].)
//! - **No panic on a closed or full stdout.** `print!` panics when the write fails. A reader
//!   that stops early (`idgap demo | head -1`) is not an error: the rest is dropped quietly and
//!   the command ends with its own exit code. Any other failure (a full disk, a revoked file)
//!   is reported with what happened, and the CLI exits 2.
//! - **No terminal control from server text on stderr.** Error lines may quote a server, so
//!   control characters are shown escaped, as in the table.

use std::io::{ErrorKind, Write};

use idgap_net::redact;

/// Writes a rendered result to stdout with every registered secret redacted.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    stdout_verbatim(&redact::redact(text))
}

/// Writes `text` to stdout as it is: only for output that is meant to carry a credential
/// (`idgap connect`'s Secret manifest) or that holds none (`idgap crd`, `idgap sim`).
pub fn stdout_verbatim(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "cannot write the output to standard output: {e}"
        )),
    }
}

/// Writes one line of error or warning text to stderr: server text may be quoted in it, so
/// credential-looking fields are blanked too, and control characters are escaped.
pub fn error_line(text: &str) {
    let text = redact::server_text(text);
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}",
        crate::output::escape::visible(&text)
    );
}
