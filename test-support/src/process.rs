//! Running a test command with input on its stdin.

use std::borrow::BorrowMut;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Run `command` with `input` on stdin (then closed) and stdout/stderr captured. The input is
/// written from another thread, so a command that answers before reading everything cannot
/// deadlock the test. A command that exits without reading its input is not an error.
pub fn output_with_stdin(mut command: impl BorrowMut<Command>, input: impl AsRef<[u8]>) -> Output {
    let command = command.borrow_mut();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("spawn {:?}: {error}", command.get_program()));
    let mut stdin = child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("the child's stdin is piped"));
    let input = input.as_ref().to_vec();
    let writer = std::thread::spawn(move || {
        // A closed pipe (the command did not read everything) is the command's business.
        let _ = stdin.write_all(&input);
    });
    let output = child
        .wait_with_output()
        .unwrap_or_else(|error| panic!("wait for {:?}: {error}", command.get_program()));
    let _ = writer.join();
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_reaches_the_command_and_output_is_captured() {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", "tr a-z A-Z; echo done >&2; exit 3"]);
        let output = output_with_stdin(&mut command, "hello\n");
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(output.stdout, b"HELLO\n");
        assert_eq!(output.stderr, b"done\n");
        // A command that reads nothing, with more input than a pipe holds.
        let output = output_with_stdin(Command::new("/bin/true"), vec![b'x'; 1 << 20]);
        assert!(output.status.success());
    }
}
