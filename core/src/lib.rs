//! The agent: a session's history and turn loop, the tools the model may call, sandboxed
//! command execution, AGENTS.md and the environment context, and rollout files. It emits typed
//! [`Event`]s and prints nothing; `codex exec` (and later the interactive UI) render them.
//!
//! ```text
//! let mut session = Session::start(settings, client, runner)?;
//! let outcome = session.run_turn(vec![ContentItem::InputText { text }], &mut |event| print(event));
//! ```
//!
//! # Security properties
//!
//! - **Every command the model asks for runs through the [`CommandRunner`]** (the sandbox entry
//!   point), `argv[0]` an absolute path, with the environment from `shell_environment_policy`
//!   (secrets left out). `apply_patch` is verified in process, then applied by running
//!   `codex apply-patch` inside the same sandbox.
//! - **Host reads are guarded** ([`ReadGuard`]): AGENTS.md, `view_image` files and `-i` images are
//!   resolved and refused inside `$CODEX_HOME`, `/proc`, `/sys`, `/dev`, denied paths, or outside
//!   what the sandbox may read; a planted symlink to `auth.json` is not followed.
//! - **No host-side git**: the repository root is found by looking for `.git` entries.
//! - **Bounded**: tool output to the model (head + tail), captured output per command, tool
//!   calls per response ([`MAX_TOOL_CALLS_PER_RESPONSE`]), the history ([`MAX_HISTORY_BYTES`]);
//!   the model stream itself is bounded by the client's `[model_stream_limits]`.
//! - **Rollouts** are 0600 files in 0700 directories whatever the umask, under `$CODEX_HOME`
//!   (hidden from every sandbox).

mod clock;
mod context;
mod events;
mod interrupt;
mod private_files;
mod rollout;
mod runner;
mod safe_read;
mod sandbox_runner;
mod session;
mod tools;
mod truncate;

pub use clock::is_uuid;
pub use context::BASE_INSTRUCTIONS;
pub use context::DEFAULT_PROJECT_DOC_MAX_BYTES;
pub use context::git_root;
pub use events::AbortReason;
pub use events::CommandStatus;
pub use events::Event;
pub use events::PatchChangeKind;
pub use events::PatchFileChange;
pub use events::PlanStep;
pub use events::PlanStepStatus;
pub use events::TurnUsage;
pub use interrupt::InterruptHandle;
pub use rollout::RolloutError;
pub use rollout::SavedSession;
pub use rollout::find_last_session;
pub use rollout::find_session;
pub use runner::CancelRegistration;
pub use runner::CancelToken;
pub use runner::CommandEnding;
pub use runner::CommandRunner;
pub use runner::RunToolError;
pub use runner::ToolCommand;
pub use runner::ToolCommandOutput;
pub use safe_read::ReadGuard;
pub use safe_read::SafeReadError;
pub use sandbox_runner::SandboxRunner;
pub use session::MAX_HISTORY_BYTES;
pub use session::RolloutMode;
pub use session::Session;
pub use session::SessionSettings;
pub use session::StartSessionError;
pub use session::TurnOutcome;
pub use session::new_session_id;
pub use tools::MAX_TOOL_CALLS_PER_RESPONSE;
pub use tools::image_data_url;
pub use tools::specs::tool_specs;
pub use truncate::first_lines;
pub use truncate::truncate_middle;
