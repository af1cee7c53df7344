//! The CLI's final writers. What `scan` and `demo` print, in every format, and every error
//! line goes through `idgap_net::redact` here, after rendering: a format added later cannot
//! forget it. (`idgap connect` prints the Secret manifest it was asked for, credentials
//! included, on stdout by design; its errors still come through [`error_line`].)

use std::io::Write;

use idgap_net::redact;

/// Writes a rendered report to stdout with every registered secret redacted.
pub fn stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(redact::redact(text).as_bytes())?;
    out.flush()
}

/// Writes one line of error or warning text to stderr: server text may be quoted in it, so
/// credential-looking fields are blanked too.
pub fn error_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", redact::server_text(text));
}
