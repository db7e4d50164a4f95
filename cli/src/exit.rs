//! Error reporting for the binary: `error: …`, `Caused by:` lines, then `hint:` lines.

use std::process::ExitCode;

/// An error that carries its own exit code and, optionally, a hint for the user.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            hint: None,
            code: 1,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_code(mut self, code: u8) -> Self {
        self.code = code;
        self
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Print `error` to stderr in the house format and return the exit code to use.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if error
        .downcast_ref::<crate::output::StdoutClosed>()
        .is_some()
    {
        return ExitCode::from(crate::output::STDOUT_CLOSED_EXIT);
    }
    let mut text = String::new();
    let (code, hint) = match error.downcast_ref::<CliError>() {
        Some(cli_error) => (cli_error.code, cli_error.hint.clone()),
        None => (1, None),
    };
    // A message that already carries its own prefix (the upstream-compatible
    // `Error parsing -c overrides: …`) is printed as is.
    let head = error.to_string();
    let own_prefix = error
        .downcast_ref::<codex_config::LoadConfigError>()
        .is_some_and(codex_config::LoadConfigError::carries_own_prefix);
    if own_prefix {
        text.push_str(&head);
    } else {
        text.push_str("error: ");
        text.push_str(&head);
    }
    text.push('\n');
    let causes: Vec<String> = error.chain().skip(1).map(ToString::to_string).collect();
    if !causes.is_empty() {
        text.push_str("Caused by:\n");
        for cause in causes {
            for (index, line) in cause.lines().enumerate() {
                text.push_str(if index == 0 { "  " } else { "    " });
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    if let Some(hint) = hint {
        text.push_str("\nhint: ");
        text.push_str(&hint);
        text.push('\n');
    }
    eprint!("{text}");
    ExitCode::from(code)
}
