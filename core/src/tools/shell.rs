//! `exec_command`: `bash -lc CMD` through the sandbox, with apply_patch interception and
//! sandbox-denial hints.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use codex_apply_patch::{ApplyPatchInvocation, InvocationError};
use serde_json::Value;

use crate::events::{CommandStatus, Event};
use crate::runner::{CommandEnding, RunToolError, ToolCommand, ToolCommandOutput};
use crate::tools::{ToolContext, patch, resolve_workdir};
use crate::truncate::truncate_middle;

/// The shell every command runs with (absolute: never looked up on a PATH).
pub const SHELL: &str = "/bin/bash";
/// A command that runs longer is killed (with everything it started).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);
/// Output kept per command for events (head and tail).
pub const MAX_CAPTURED_BYTES: usize = 1 << 20;
/// Output returned to the model by default (≈ 10 000 tokens) and at most.
const DEFAULT_MODEL_OUTPUT_BYTES: usize = 40_000;
const MAX_MODEL_OUTPUT_BYTES: usize = 100_000;

/// `argv` as one shell-style line: `/bin/bash -lc 'echo hi'`.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| {
            if !arg.is_empty()
                && arg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
            {
                arg.clone()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn exec_command(
    call_id: &str,
    arguments: &Value,
    context: &mut ToolContext<'_>,
) -> String {
    let Some(cmd) = arguments.get("cmd").and_then(Value::as_str) else {
        return "failed to parse function arguments: missing field `cmd`".into();
    };
    let cwd = resolve_workdir(
        context.cwd,
        arguments.get("workdir").and_then(Value::as_str),
    );
    let argv: Vec<String> = vec![SHELL.into(), "-lc".into(), cmd.into()];
    match ApplyPatchInvocation::from_argv(&argv) {
        Some(Ok(invocation)) => {
            let patch_cwd = invocation.cwd(&cwd);
            let (success, text) =
                patch::apply_parsed(call_id, &invocation.patch, &patch_cwd, context);
            return format!(
                "Exit code: {}\nOutput:\n{text}",
                if success { 0 } else { 1 }
            );
        }
        Some(Err(InvocationError::ImplicitInvocation)) => {
            return InvocationError::ImplicitInvocation.to_string();
        }
        Some(Err(InvocationError::Parse(error))) => {
            let message = format!("apply_patch verification failed: {error}");
            patch::report_failure(call_id, Vec::new(), &message, context);
            return message;
        }
        None => {}
    }
    let budget = arguments
        .get("max_output_tokens")
        .and_then(Value::as_f64)
        .map_or(DEFAULT_MODEL_OUTPUT_BYTES, |tokens| {
            ((tokens.max(0.0) as usize).saturating_mul(4)).clamp(256, MAX_MODEL_OUTPUT_BYTES)
        });
    let command_line = shell_join(&argv);
    (context.emit)(Event::CommandBegin {
        call_id: call_id.to_string(),
        command: command_line.clone(),
        cwd: cwd.clone(),
    });
    let mut env = context.env.to_vec();
    if context.runner.network_disabled() {
        let name = codex_sandboxing::env_names::CODEX_SANDBOX_NETWORK_DISABLED;
        env.retain(|(existing, _)| existing != name);
        env.push((name.into(), "1".into()));
    }
    let command = ToolCommand {
        argv: argv.iter().map(OsString::from).collect(),
        cwd: cwd.clone(),
        env,
        timeout: COMMAND_TIMEOUT,
        max_output_bytes: MAX_CAPTURED_BYTES,
    };
    let started = std::time::Instant::now();
    let result = context.runner.run(&command, context.cancel);
    match result {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.aggregated).into_owned();
            let status = if output.exit_code == 0 && output.ending == CommandEnding::Exited(0) {
                CommandStatus::Completed
            } else {
                CommandStatus::Failed
            };
            (context.emit)(Event::CommandEnd {
                call_id: call_id.to_string(),
                command: command_line,
                cwd: cwd.clone(),
                exit_code: Some(output.exit_code),
                status,
                aggregated_output: text.clone(),
                duration: output.duration,
            });
            let hint = denial_hint(&output, &text, context.runner.network_disabled(), &cwd);
            format_for_model(&output, &text, hint.as_deref(), budget)
        }
        Err(error) => {
            let message = match &error {
                RunToolError::Sandbox { message, hint } => match hint {
                    Some(hint) => {
                        format!("the sandbox refused to run the command: {message} ({hint})")
                    }
                    None => format!("the sandbox refused to run the command: {message}"),
                },
                other => other.to_string(),
            };
            (context.emit)(Event::CommandEnd {
                call_id: call_id.to_string(),
                command: command_line,
                cwd,
                exit_code: None,
                status: CommandStatus::Declined,
                aggregated_output: message.clone(),
                duration: started.elapsed(),
            });
            message
        }
    }
}

/// Upstream 0.169's text form.
fn format_for_model(
    output: &ToolCommandOutput,
    text: &str,
    hint: Option<&str>,
    budget: usize,
) -> String {
    let mut result = String::new();
    result.push_str(&format!(
        "Chunk ID: {:06x}\n",
        (output.duration.as_nanos() as u64 ^ output.total_bytes) & 0xff_ffff
    ));
    result.push_str(&format!(
        "Wall time: {:.4} seconds\n",
        output.duration.as_secs_f64()
    ));
    match output.ending {
        CommandEnding::TimedOut => result.push_str(&format!(
            "command timed out after {} milliseconds\n",
            COMMAND_TIMEOUT.as_millis()
        )),
        CommandEnding::Cancelled => result.push_str("command was interrupted\n"),
        _ => {}
    }
    result.push_str(&format!("Process exited with code {}\n", output.exit_code));
    result.push_str(&format!(
        "Original token count: {}\n",
        output.total_bytes.div_ceil(4)
    ));
    if let Some(hint) = hint {
        result.push_str(hint);
        result.push('\n');
    }
    if output.truncated {
        result.push_str("Warning: the command's output was larger than the capture buffer; its middle is missing\n");
    }
    result.push_str("Output:\n");
    result.push_str(&truncate_middle(text, budget));
    result
}

/// One line when a failure looks like the sandbox at work.
fn denial_hint(
    output: &ToolCommandOutput,
    text: &str,
    network_disabled: bool,
    cwd: &Path,
) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    // A blocked write is worth saying even when a later command made the script succeed.
    if lower.contains("read-only file system") {
        return Some(format!(
            "Sandbox: this looks like a sandbox denial: writing outside the writable roots is blocked (the working directory is `{}`); do not retry, write inside a writable root instead",
            cwd.display()
        ));
    }
    if output.exit_code == 0 {
        return None;
    }
    let network_markers = [
        "network is unreachable",
        "could not resolve host",
        "temporary failure in name resolution",
        "name or service not known",
        "connection refused",
        "failed to connect",
        "no address associated",
    ];
    let socket_refused = lower.contains("operation not permitted")
        && ["socket", "connect", "/dev/tcp", "/dev/udp"]
            .iter()
            .any(|word| lower.contains(word));
    if network_disabled
        && (socket_refused || network_markers.iter().any(|marker| lower.contains(marker)))
    {
        return Some(
            "Sandbox: this looks like a sandbox denial: the network is disabled for commands in this session; do not retry, work offline".into(),
        );
    }
    if lower.contains("permission denied") || lower.contains("operation not permitted") {
        return Some(
            "Sandbox: this may be a sandbox denial: the path may be protected (`.git`, `.codex`, `.agents`, credentials) or outside the readable and writable roots".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_join_quotes_what_needs_it() {
        assert_eq!(
            shell_join(&["/bin/bash".into(), "-lc".into(), "echo 'hi' > x".into()]),
            r#"/bin/bash -lc 'echo '\''hi'\'' > x'"#
        );
        assert_eq!(shell_join(&["ls".into(), String::new()]), "ls ''");
    }

    fn outcome(code: i32) -> ToolCommandOutput {
        ToolCommandOutput {
            ending: CommandEnding::Exited(code),
            exit_code: code,
            stdout: Vec::new(),
            stderr: Vec::new(),
            aggregated: Vec::new(),
            total_bytes: 0,
            truncated: false,
            duration: Duration::from_millis(5),
        }
    }

    #[test]
    fn hints_for_denials() {
        let cwd = Path::new("/w");
        assert!(denial_hint(&outcome(0), "Read-only file system", true, cwd).is_some());
        assert!(denial_hint(&outcome(0), "Permission denied", true, cwd).is_none());
        assert!(
            denial_hint(&outcome(1), "bash: x: Read-only file system", true, cwd)
                .unwrap()
                .contains("writable roots")
        );
        assert!(
            denial_hint(&outcome(7), "curl: (7) Failed to connect", true, cwd)
                .unwrap()
                .contains("network is disabled")
        );
        assert!(denial_hint(&outcome(7), "curl: (7) Failed to connect", false, cwd).is_none());
        assert!(
            denial_hint(
                &outcome(1),
                "bash: socket: Operation not permitted",
                true,
                cwd
            )
            .unwrap()
            .contains("network is disabled")
        );
        assert!(denial_hint(&outcome(1), "some error", true, cwd).is_none());
    }

    #[test]
    fn model_output_has_upstream_fields_and_is_bounded() {
        let mut failed = outcome(3);
        failed.total_bytes = 100_000;
        let text = "x".repeat(100_000);
        let formatted = format_for_model(&failed, &text, Some("Sandbox: hint"), 1000);
        assert!(formatted.contains("Process exited with code 3\n"));
        assert!(formatted.contains("Original token count: 25000\n"));
        assert!(formatted.contains("Sandbox: hint\nOutput:\n"));
        assert!(formatted.len() < 1300, "{}", formatted.len());
    }
}
