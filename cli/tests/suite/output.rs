//! Stdout closed by its reader (`codex … | head -1`): every command that prints stops quietly
//! with 141 (128 + SIGPIPE), never a panic or an `error:` line.

use std::process::Stdio;

use crate::suite::common::{TestEnv, code, stderr};

#[test]
fn a_closed_stdout_ends_each_printing_command_quietly() {
    let env = TestEnv::new();
    let commands: [&[&str]; 9] = [
        &["completion", "bash"],
        &["sandbox", "--dry-run", "--", "true"],
        &["sandbox", "-P", ":workspace", "--dry-run", "--", "true"],
        &["config", "show"],
        &["config", "show", "--json", "--origins"],
        &["features", "list"],
        &["login", "status", "--json"],
        &["doctor"],
        &["doctor", "--json"],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = env
            .codex(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("spawn codex");
        let err = stderr(&output);
        assert_eq!(code(&output), 141, "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}
