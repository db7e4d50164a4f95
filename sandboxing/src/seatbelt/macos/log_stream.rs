//! `log stream --style ndjson` running next to the sandboxed command (macOS only; see the
//! warning in `macos/mod.rs`: not executed here).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::super::denials::{LOG_STREAM_PREDICATE, is_log_stream_ready_line};

/// How long `log stream` gets to install its filter before denial logging is given up.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) struct LogStream {
    child: Child,
    lines: Receiver<String>,
    readers: Vec<JoinHandle<()>>,
}

impl LogStream {
    /// Start `log stream` and wait until it reports that its filter is active. `None` when it
    /// cannot be started or never becomes ready: denial logging is then silently skipped.
    pub(super) fn start() -> Option<Self> {
        let mut child = Command::new("/usr/bin/log")
            .args([
                "stream",
                "--style",
                "ndjson",
                "--predicate",
                LOG_STREAM_PREDICATE,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        let (sender, lines) = mpsc::channel();
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(forward_lines(stdout, sender.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(forward_lines(stderr, sender));
        }
        let stream = LogStream {
            child,
            lines,
            readers,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match stream.lines.recv_timeout(remaining) {
                Ok(line) if is_log_stream_ready_line(&line) => return Some(stream),
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    stream.stop();
                    return None;
                }
            }
        }
    }

    /// Stop `log stream` and return every line it printed since it became ready.
    pub(super) fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.lines.try_iter().collect()
    }
}

impl Drop for LogStream {
    /// Never leave `log stream` running behind us, whatever path we leave by.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward_lines(source: impl Read + Send + 'static, sender: Sender<String>) -> JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    })
}
