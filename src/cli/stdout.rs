//! Writing a command's result to standard output without `print!`, which panics when the
//! write fails. A reader that stops early (`idgap demo | head -1`) is not an error: the rest
//! is dropped quietly and the command ends with its own exit code. Any other failure (a full
//! disk, a revoked file) is one, reported with what happened, and the CLI exits 2.

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "cannot write the output to standard output: {e}"
        )),
    }
}
