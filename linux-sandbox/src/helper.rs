//! The `codex-linux-sandbox` command line:
//!
//! ```text
//! codex-linux-sandbox --policy <JSON> --cwd <DIR> [--use-legacy-landlock] [--bwrap <PATH>]
//!                     [--max-processes <N>] [--no-landlock-layer] -- COMMAND...
//! ```
//! The helper's own environment is the command's complete environment. Exit status: the command's
//! (128+N when it was killed by signal N), 127 when it was not found, 126 when it could not be
//! executed, 1 for a usage, policy or sandbox error (printed as `error: …` then `hint: …`).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use codex_sandbox_policy::SandboxPolicy;

use crate::request::{LinuxBackend, LinuxOptions, RunMode, SandboxRequest};

const USAGE: &str = "usage: codex-linux-sandbox --policy <JSON> --cwd <DIR> [--use-legacy-landlock] [--bwrap <PATH>] [--max-processes <N>] [--no-landlock-layer] -- COMMAND...";

/// Parsed arguments.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HelperArgs {
    pub policy: String,
    pub cwd: PathBuf,
    pub backend: LinuxBackend,
    pub options: LinuxOptions,
    pub command: Vec<OsString>,
}

/// Parse the arguments after `argv[0]`; `Ok(None)` for `--help`.
pub(crate) fn parse(
    args: impl IntoIterator<Item = OsString>,
) -> Result<Option<HelperArgs>, String> {
    let mut args = args.into_iter();
    let mut policy = None;
    let mut cwd = None;
    let mut backend = LinuxBackend::Bubblewrap;
    let mut options = LinuxOptions::default();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--policy") => {
                let value = args.next().ok_or("`--policy` needs a value")?;
                policy = Some(
                    value
                        .into_string()
                        .map_err(|_| "`--policy` must be UTF-8 JSON")?,
                );
            }
            Some("--cwd") => cwd = Some(PathBuf::from(args.next().ok_or("`--cwd` needs a value")?)),
            Some("--use-legacy-landlock") => backend = LinuxBackend::Landlock,
            Some("--bwrap") => {
                options.bwrap_path =
                    Some(PathBuf::from(args.next().ok_or("`--bwrap` needs a value")?));
            }
            Some("--max-processes") => {
                let value = args.next().ok_or("`--max-processes` needs a value")?;
                let limit: u64 = value
                    .to_str()
                    .and_then(|text| text.parse().ok())
                    .ok_or("`--max-processes` must be a number (0 = no limit)")?;
                options.max_processes = (limit > 0).then_some(limit);
            }
            Some("--no-landlock-layer") => options.landlock_layer = false,
            Some("--require-process-limit") => options.require_process_limit = true,
            Some("--help") | Some("-h") => return Ok(None),
            Some("--") => break,
            _ => return Err(format!("unexpected argument `{}`", arg.to_string_lossy())),
        }
    }
    let command: Vec<OsString> = args.collect();
    if command.is_empty() {
        return Err("no command given after `--`".to_string());
    }
    Ok(Some(HelperArgs {
        policy: policy.ok_or("`--policy` is required")?,
        cwd: cwd.ok_or("`--cwd` is required")?,
        backend,
        options,
        command,
    }))
}

/// Run the helper with this process's arguments and environment.
pub fn helper_main() -> ExitCode {
    let args = match parse(std::env::args_os().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => return report(&message, Some(USAGE.to_string()), 1),
    };
    let policy = match SandboxPolicy::from_json(&args.policy) {
        Ok(policy) => policy,
        Err(error) => return report(&format!("invalid `--policy` JSON: {error}"), None, 1),
    };
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let request = SandboxRequest {
        policy: &policy,
        command: &args.command,
        cwd: &args.cwd,
        env: &env,
        backend: args.backend,
        run_mode: RunMode::ExecWhenPossible,
        options: &args.options,
    };
    let plan = match crate::plan(&request) {
        Ok(plan) => plan,
        Err(error) => return report(&error.to_string(), error.hint(), 1),
    };
    match run_forwarding_signals(plan) {
        Ok(status) => ExitCode::from(exit_code(status)),
        Err(error) => report(&error.to_string(), error.hint(), error.exit_code()),
    }
}

/// Run `plan`; in spawn mode signals sent to the helper reach the command (in exec mode bwrap
/// itself gets them).
#[cfg(target_os = "linux")]
fn run_forwarding_signals(
    plan: crate::LinuxPlan,
) -> Result<std::process::ExitStatus, crate::RunSandboxError> {
    let control = codex_sandbox_process::CancelHandle::new().ok();
    let _forwarding = match (&control, plan.replaces_process()) {
        (Some(control), false) => codex_sandbox_process::SignalForwarder::install(control).ok(),
        _ => None,
    };
    crate::run(plan, control.as_ref())
}

#[cfg(not(target_os = "linux"))]
fn run_forwarding_signals(
    plan: crate::LinuxPlan,
) -> Result<std::process::ExitStatus, crate::RunSandboxError> {
    crate::run(plan)
}

/// The command's code, or 128+signal.
#[cfg(target_os = "linux")]
pub(crate) fn exit_code(status: std::process::ExitStatus) -> u8 {
    u8::try_from(codex_sandbox_process::shell_exit_code(status) & 0xff).unwrap_or(1)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn exit_code(status: std::process::ExitStatus) -> u8 {
    u8::try_from(status.code().unwrap_or(1) & 0xff).unwrap_or(1)
}

fn report(message: &str, hint: Option<String>, code: u8) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {message}");
    if let Some(hint) = hint {
        let _ = writeln!(stderr, "\nhint: {hint}");
    }
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_the_helper_interface() {
        let parsed = parse(args(&[
            "--policy",
            "{}",
            "--cwd",
            "/w",
            "--use-legacy-landlock",
            "--",
            "ls",
            "-l",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            parsed,
            HelperArgs {
                policy: "{}".to_string(),
                cwd: PathBuf::from("/w"),
                backend: LinuxBackend::Landlock,
                options: LinuxOptions::default(),
                command: args(&["ls", "-l"]),
            }
        );
        let parsed = parse(args(&[
            "--policy",
            "{}",
            "--cwd",
            "/w",
            "--bwrap",
            "/opt/bwrap",
            "--max-processes",
            "0",
            "--no-landlock-layer",
            "--",
            "ls",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            parsed.options,
            LinuxOptions {
                bwrap_path: Some(PathBuf::from("/opt/bwrap")),
                max_processes: None,
                landlock_layer: false,
                require_process_limit: false,
                stage_executable: None,
            }
        );
    }

    #[test]
    fn rejects_missing_pieces() {
        assert!(parse(args(&["--cwd", "/w", "--", "ls"])).is_err());
        assert!(parse(args(&["--policy", "{}", "--cwd", "/w"])).is_err());
        assert!(parse(args(&["--bogus"])).is_err());
        assert_eq!(parse(args(&["--help"])).unwrap(), None);
    }

    #[test]
    fn signal_deaths_become_128_plus_signal() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(9)), 137);
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(3 << 8)), 3);
    }
}
