//! The only place that writes to stdout (JSONL lines, the final message) and the error line on
//! stderr. Write errors (a closed pipe) are ignored: there is nobody left to tell.

use std::io::Write;

/// One JSON value and a newline.
pub fn json_line(value: &serde_json::Value) {
    let mut line = value.to_string();
    line.push('\n');
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(line.as_bytes());
    let _ = stdout.flush();
}

/// The final message exactly, plus a newline when it lacks one.
pub fn final_message(message: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(message.as_bytes());
    if !message.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}

/// A line on stderr.
pub fn error_line(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}
