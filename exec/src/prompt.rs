//! Where the prompt comes from (upstream §1.2), with one fix: exec never waits forever on a
//! stdin that neither delivers data nor closes.

use std::io::{IsTerminal, Read};
use std::time::Duration;

/// How long a prompt-plus-pipe run waits for the pipe to deliver data or close.
pub const STDIN_GRACE: Duration = Duration::from_secs(2);
/// Most bytes read from stdin.
const MAX_STDIN_BYTES: u64 = 32 << 20;

/// Reading the prompt failed (exit 1).
#[derive(Debug, PartialEq, Eq)]
pub struct PromptError(pub String);

/// What to tell the user on stderr before the run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub text: String,
    pub notices: Vec<String>,
}

/// Whether stdin has data (or EOF) within `grace`.
#[cfg(unix)]
fn readable_within(grace: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let mut descriptor = libc::pollfd {
        fd: std::io::stdin().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout = i32::try_from(grace.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut descriptor, 1, timeout) };
    ready > 0
}

/// Elsewhere (Windows, where no sandboxed command can run yet) there is no readiness poll on a
/// pipe handle: stdin is read until it closes, as upstream does.
#[cfg(not(unix))]
fn readable_within(_grace: Duration) -> bool {
    true
}

fn read_stdin() -> Result<String, PromptError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_STDIN_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|error| PromptError(format!("Failed to read prompt from stdin: {error}")))?;
    decode(bytes)
}

/// UTF-8 (BOM stripped), or UTF-16 with a BOM; upstream's messages otherwise.
fn decode(bytes: Vec<u8>) -> Result<String, PromptError> {
    let fail =
        |message: String| PromptError(format!("Failed to read prompt from stdin: {message}"));
    if bytes.starts_with(&[0xff, 0xfe, 0, 0]) || bytes.starts_with(&[0, 0, 0xfe, 0xff]) {
        let kind = if bytes[0] == 0xff {
            "UTF-32LE"
        } else {
            "UTF-32BE"
        };
        return Err(fail(format!(
            "input appears to be {kind}. Convert it to UTF-8 and retry."
        )));
    }
    let utf16 = |little: bool| -> Result<String, PromptError> {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|pair| {
                let pair = [pair[0], *pair.get(1).unwrap_or(&0)];
                if little {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        String::from_utf16(&units)
            .map_err(|_| fail("input is not valid UTF-16. Convert it to UTF-8 and retry.".into()))
    };
    if bytes.starts_with(&[0xff, 0xfe]) {
        return utf16(true);
    }
    if bytes.starts_with(&[0xfe, 0xff]) {
        return utf16(false);
    }
    let body = bytes
        .strip_prefix(&[0xef, 0xbb, 0xbf][..])
        .unwrap_or(&bytes);
    String::from_utf8(body.to_vec()).map_err(|error| {
        fail(format!(
            "input is not valid UTF-8 (invalid byte at offset {}). Convert it to UTF-8 and retry (e.g., `iconv -f <ENC> -t UTF-8 prompt.txt`).",
            error.utf8_error().valid_up_to()
        ))
    })
}

/// The prompt from the argument and stdin.
pub fn resolve_prompt(argument: Option<&str>) -> Result<Prompt, PromptError> {
    let stdin_is_terminal = std::io::stdin().is_terminal();
    match argument {
        Some("-") => {
            let text = read_stdin()?;
            if text.trim().is_empty() {
                return Err(PromptError("No prompt provided via stdin.".into()));
            }
            Ok(Prompt {
                text,
                notices: Vec::new(),
            })
        }
        Some(prompt) if stdin_is_terminal => Ok(Prompt {
            text: prompt.to_string(),
            notices: Vec::new(),
        }),
        Some(prompt) => {
            let mut notices = vec!["Reading additional input from stdin...".to_string()];
            if !readable_within(STDIN_GRACE) {
                notices.push(format!(
                    "warning: stdin delivered nothing within {} seconds; using the prompt alone",
                    STDIN_GRACE.as_secs()
                ));
                return Ok(Prompt {
                    text: prompt.to_string(),
                    notices,
                });
            }
            let extra = read_stdin()?;
            let text = if extra.trim().is_empty() {
                prompt.to_string()
            } else {
                format!("{prompt}\n\n<stdin>\n{extra}</stdin>")
            };
            Ok(Prompt { text, notices })
        }
        None if stdin_is_terminal => Err(PromptError(
            "No prompt provided. Either specify one as an argument or pipe the prompt into stdin."
                .into(),
        )),
        None => {
            let notices = vec!["Reading prompt from stdin...".to_string()];
            let text = read_stdin()?;
            if text.trim().is_empty() {
                return Err(PromptError("No prompt provided via stdin.".into()));
            }
            Ok(Prompt { text, notices })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(decode(b"\xef\xbb\xbfhi".to_vec()).unwrap(), "hi");
        assert_eq!(decode(vec![0xff, 0xfe, b'h', 0, b'i', 0]).unwrap(), "hi");
        assert_eq!(decode(vec![0xfe, 0xff, 0, b'h']).unwrap(), "h");
        assert!(
            decode(vec![0xff, 0xfe, 0, 0])
                .unwrap_err()
                .0
                .contains("UTF-32LE")
        );
        assert!(
            decode(b"ab\xffc".to_vec())
                .unwrap_err()
                .0
                .contains("offset 2")
        );
    }
}
