//! The CLI's one way to write to stdout (the `exec` agent has its own in `codex-exec`).
//!
//! A reader that went away (`codex completion bash | head -1`) is not an error to report: the
//! command stops quietly with exit code 141 (128 + SIGPIPE), what a program killed by SIGPIPE
//! reports to its shell. Any other write error is reported as one.

use std::io::Write;

use anyhow::Context as _;

/// The exit code after the reader of stdout went away.
pub const STDOUT_CLOSED_EXIT: u8 = 141;

/// Stdout's reader went away; [`crate::exit::report`] exits quietly with [`STDOUT_CLOSED_EXIT`].
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Write `text` to stdout and flush it.
pub fn write(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(error) => Err(error).context("failed to write to stdout"),
    }
}

/// Write `value` and a newline to stdout.
pub fn line(value: impl std::fmt::Display) -> anyhow::Result<()> {
    write(&format!("{value}\n"))
}
