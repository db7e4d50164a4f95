//! `codex exec`: the headless agent. Arguments ([`ExecArgs`]), the prompt and stdin rules, the
//! human transcript (stderr) and JSONL (stdout) printers, `-o`, signals and exit codes. The
//! agent itself is `codex-core`.
//!
//! Modules:
//! - `args`: clap types.
//! - `prompt`: the prompt from the argument and stdin (never waits forever on stdin).
//! - `visible`: control characters made visible for the terminal.
//! - `human`: the stderr transcript.
//! - `jsonl`: `--json` events and their JSON Schema ([`event_schema`]).
//! - `signals`: SIGINT/SIGTERM → interrupt the turn.
//! - `output`: the one place that writes stdout.
//! - `run`: [`run_exec`].

mod args;
mod human;
mod jsonl;
mod output;
mod prompt;
mod run;
mod signals;
mod visible;

pub use args::ExecArgs;
pub use jsonl::event_schema;
pub use jsonl::event_schema_text;
pub use prompt::STDIN_GRACE;
pub use run::RootOptions;
pub use run::run_exec;
pub use visible::visible;
