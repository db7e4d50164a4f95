//! `codex apply-patch [PATCH]`, and the same command when the binary runs as `apply_patch` or
//! `applypatch` (a link the agent puts on the sandboxed command's PATH).
//!
//! The patch comes from the argument, or from stdin when there is none or it is `-`. Paths are
//! relative to the current directory. No policy is checked here: the command is meant to run
//! inside the OS sandbox, which enforces it. Output is upstream's: the summary on stdout; on
//! failure its error line on stderr and exit 1; usage errors exit 2.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use codex_apply_patch::{ApplyPatchError, WriteGuard, apply_patch};

/// Names under which the `codex` binary acts as `codex apply-patch`.
const ARG0_NAMES: [&str; 2] = ["apply_patch", "applypatch"];

/// Accepted (and ignored) for upstream compatibility: line endings are always kept.
const PRESERVE_CRLF_FLAG: &str = "--preserve-crlf";

const USAGE: &str = "Usage: apply_patch 'PATCH'\n       echo 'PATCH' | apply_patch";

const FORMAT_HELP: &str = "\
The patch format:

  *** Begin Patch
  *** Add File: path/new.txt
  +every line of the new file starts with +
  *** Delete File: path/old.txt
  *** Update File: path/file.py
  *** Move to: path/renamed.py          (optional)
  @@ def function():                     (optional: a line before the change)
   context line (starts with a space)
  -removed line
  +added line
  *** End of File                        (optional: the change is at the end)
  *** End Patch

Paths are relative to the current directory. Every change is checked in memory first; then all
files are written atomically, or none is (a failure leaves every file as it was). Prints
`Success. Updated the following files:` with A/M/D lines. Also runs as `apply_patch` and
`applypatch` (a link to the codex binary under that name).";

#[derive(Debug, clap::Args)]
#[command(after_help = FORMAT_HELP)]
pub struct ApplyPatchArgs {
    /// The patch text; read from stdin when omitted or `-`.
    #[arg(value_name = "PATCH")]
    patch: Option<String>,

    #[arg(long = "preserve-crlf", hide = true)]
    preserve_crlf: bool,
}

pub fn run_apply_patch(args: ApplyPatchArgs) -> anyhow::Result<ExitCode> {
    let _ = args.preserve_crlf;
    let text = match args.patch {
        Some(text) if text != "-" => text,
        _ => match read_stdin() {
            Ok(text) => text,
            Err(code) => return Ok(code),
        },
    };
    Ok(apply_and_report(&text))
}

/// When the binary was started as `apply_patch` or `applypatch`, run as that command.
pub fn dispatch_arg0() -> Option<ExitCode> {
    let mut args = std::env::args_os();
    let arg0 = args.next()?;
    let name = Path::new(&arg0).file_name()?;
    if !ARG0_NAMES.iter().any(|candidate| name == *candidate) {
        return None;
    }
    Some(run_as_arg0(args.collect()))
}

/// Upstream's `apply_patch` command line: `[--preserve-crlf] [PATCH]`.
fn run_as_arg0(mut args: Vec<OsString>) -> ExitCode {
    if args.first().is_some_and(|arg| arg == PRESERVE_CRLF_FLAG) {
        args.remove(0);
    }
    if args.len() > 1 {
        eprintln!("Error: apply_patch accepts exactly one PATCH argument.");
        return ExitCode::from(2);
    }
    let text = match args.pop() {
        Some(arg) if arg == "-h" || arg == "--help" => {
            return write_stdout(&format!("{USAGE}\n\n{FORMAT_HELP}\n"));
        }
        Some(arg) if arg != "-" => match arg.into_string() {
            Ok(text) => text,
            Err(_) => {
                eprintln!("Error: apply_patch requires a UTF-8 PATCH argument.");
                return ExitCode::from(1);
            }
        },
        _ => match read_stdin() {
            Ok(text) => text,
            Err(code) => return code,
        },
    };
    apply_and_report(&text)
}

/// The patch from stdin; an empty stdin is a usage error.
fn read_stdin() -> Result<String, ExitCode> {
    let mut text = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("Error: Failed to read PATCH from stdin.\n{error}");
        return Err(ExitCode::from(1));
    }
    if text.is_empty() {
        eprintln!("{USAGE}");
        return Err(ExitCode::from(2));
    }
    Ok(text)
}

fn apply_and_report(text: &str) -> ExitCode {
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => {
            eprintln!("Error: Failed to determine current directory.\n{error}");
            return ExitCode::from(1);
        }
    };
    match apply_patch(text, &cwd, &WriteGuard::unrestricted()) {
        Ok(summary) => write_stdout(&summary.to_string()),
        Err(ApplyPatchError::Parse(error)) => {
            eprintln!("{}", error.command_message());
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(1)
        }
    }
}

fn write_stdout(text: &str) -> ExitCode {
    match crate::output::write(text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => crate::exit::report(&error),
    }
}
