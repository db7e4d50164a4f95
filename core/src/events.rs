//! The typed event stream a turn emits. Front ends (the `codex exec` printers, later the
//! interactive UI) render these; the core prints nothing.
//!
//! Every string that came from the model or a tool command is passed through unchanged: it is
//! the printer's job to make control characters visible.

use std::path::PathBuf;
use std::time::Duration;

use codex_model_client::TokenUsage;

/// How a tool command ended, as the events report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandStatus {
    /// Exit code 0.
    Completed,
    /// A non-zero exit, a signal or a timeout.
    Failed,
    /// The command could not be started (not found, the sandbox refused it).
    Declined,
}

/// One file of a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchFileChange {
    /// Absolute, symbolic links resolved.
    pub path: PathBuf,
    pub kind: PatchChangeKind,
    /// Unified diff of the change (hunks only); empty when unknown.
    pub diff: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchChangeKind {
    Add,
    Delete,
    Update { move_path: Option<PathBuf> },
}

/// One step of an `update_plan` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub step: String,
    pub status: PlanStepStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStepStatus {
    Pending,
    InProgress,
    Completed,
}

/// Why a turn stopped before the model finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbortReason {
    /// SIGINT (Ctrl-C).
    Interrupted,
    /// SIGTERM.
    Terminated,
}

/// Token totals of a turn: every request's usage added up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TurnUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
}

impl TurnUsage {
    pub fn add(&mut self, usage: &TokenUsage) {
        self.input_tokens += usage.input_tokens;
        self.cached_input_tokens += usage.cached_input_tokens;
        self.output_tokens += usage.output_tokens;
        self.reasoning_output_tokens += usage.reasoning_output_tokens;
    }

    /// Upstream's `tokens used` figure: input − cached + output.
    pub fn blended_total(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cached_input_tokens)
            .saturating_add(self.output_tokens)
    }
}

/// What happened, in order. `call_id`s tie begin and end events together.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The turn starts (a request is about to be sent).
    TurnStarted,
    /// A reasoning item's summary text (parts joined with a newline).
    Reasoning { text: String },
    /// A complete assistant message.
    AgentMessage { text: String },
    /// A shell command is about to run in the sandbox.
    CommandBegin {
        call_id: String,
        /// The argv as one shell-style line (`/bin/bash -lc 'ls'`).
        command: String,
        cwd: PathBuf,
    },
    CommandEnd {
        call_id: String,
        command: String,
        cwd: PathBuf,
        /// `None` when the command never started.
        exit_code: Option<i32>,
        status: CommandStatus,
        /// stdout and stderr interleaved, as captured (bounded; see the tool limits).
        aggregated_output: String,
        duration: Duration,
    },
    /// A patch was verified and is about to be applied through the sandbox.
    PatchBegin {
        call_id: String,
        changes: Vec<PatchFileChange>,
    },
    /// A patch was applied, or failed (verification, policy, or in the sandbox). A patch that
    /// fails before `PatchBegin` only gets this event.
    PatchEnd {
        call_id: String,
        changes: Vec<PatchFileChange>,
        success: bool,
        /// The success summary, or the error text returned to the model.
        output: String,
    },
    PlanUpdate {
        explanation: Option<String>,
        plan: Vec<PlanStep>,
    },
    /// `view_image` attached a file to the next request.
    ImageViewed { call_id: String, path: PathBuf },
    /// A non-fatal problem (configuration, a refused read, …).
    Warning { message: String },
    /// The request is being retried (upstream's `Reconnecting... n/max (cause)`).
    StreamRetry { message: String },
    /// Usage of one completed response.
    TokenCount { usage: TokenUsage },
    /// The model answered without tool calls: the turn is done.
    TurnComplete {
        last_agent_message: Option<String>,
        usage: TurnUsage,
    },
    /// The turn failed (retries used up, a fatal response, a limit).
    TurnFailed { message: String, usage: TurnUsage },
    /// The turn was stopped by a signal; the running command's sandbox was killed.
    TurnAborted {
        reason: AbortReason,
        usage: TurnUsage,
    },
}
