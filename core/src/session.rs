//! A session: the history, the rollout file, and the turn loop.
//!
//! One turn: send the whole history; record every item of the response; when the response holds
//! tool calls, answer each (in call order, one output per `call_id`) and send again; a response
//! without tool calls ends the turn and its last message is the final answer.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use codex_model_client::{
    ContentItem, ModelClient, ModelError, Request, ResponseEvent, ResponseItem, ToolSpec,
};
use codex_sandboxing::SandboxPolicy;
use serde_json::{Value, json};

use crate::clock::{Instant, uuid_v7};
use crate::context::{self, BASE_INSTRUCTIONS};
use crate::events::{AbortReason, Event, TurnUsage};
use crate::interrupt::InterruptHandle;
use crate::rollout::{RolloutError, RolloutWriter, SavedSession};
use crate::runner::CommandRunner;
use crate::safe_read::ReadGuard;
use crate::tools::{MAX_TOOL_CALLS_PER_RESPONSE, ToolCall, ToolContext, handle_call, specs};

/// The history may hold at most this many bytes (as JSON); a turn that would grow it further
/// fails with a clear error instead of exhausting memory.
pub const MAX_HISTORY_BYTES: usize = 64 << 20;

/// The output every call left unanswered by an interruption gets.
const ABORTED_OUTPUT: &str = "aborted";

/// Where the session is recorded.
#[derive(Debug, Clone)]
pub enum RolloutMode {
    /// `--ephemeral`: nothing is written.
    Ephemeral,
    /// A new file under `$CODEX_HOME/sessions`.
    Create,
    /// Continue a saved session (its history); append to its file when `record` (not with
    /// `--ephemeral`).
    Resume { saved: SavedSession, record: bool },
}

/// Everything a session needs besides the model client and the runner.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Absolute working directory of the turns.
    pub cwd: PathBuf,
    pub codex_home: PathBuf,
    /// The resolved sandbox policy (for the model's context, patch checks and host reads; the
    /// runner enforces it).
    pub policy: SandboxPolicy,
    /// The environment of every tool command (from `shell_environment_policy`, secrets out).
    pub command_env: Vec<(OsString, OsString)>,
    /// The `codex` executable that applies patches inside the sandbox.
    pub codex_exe: PathBuf,
    pub project_doc_max_bytes: usize,
    /// `--output-schema`: sent as `text.format`.
    pub output_schema: Option<Value>,
    pub rollout: RolloutMode,
    /// The id of a new session ([`new_session_id`]); a resumed session keeps its own.
    pub session_id: String,
    /// For `session_meta`.
    pub originator: String,
    pub cli_version: String,
}

/// Starting a session failed (nothing was sent).
#[derive(Debug, thiserror::Error)]
pub enum StartSessionError {
    #[error(transparent)]
    Rollout(#[from] RolloutError),
}

/// How a turn ended (the same information as the last event).
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    Completed {
        last_agent_message: Option<String>,
        usage: TurnUsage,
    },
    Failed {
        message: String,
        usage: TurnUsage,
    },
    Aborted {
        reason: AbortReason,
        usage: TurnUsage,
    },
}

/// One conversation with the model.
pub struct Session {
    id: String,
    client: ModelClient,
    runner: Arc<dyn CommandRunner>,
    settings: SessionSettings,
    tools: Vec<ToolSpec>,
    read_guard: ReadGuard,
    history: Vec<ResponseItem>,
    history_bytes: usize,
    rollout: Option<RolloutWriter>,
    interrupt: InterruptHandle,
    pending_warnings: Vec<String>,
}

fn item_size(item: &ResponseItem) -> usize {
    serde_json::to_vec(item).map_or(0, |bytes| bytes.len())
}

impl Session {
    /// Build the initial history (or load the saved one) and open the rollout file.
    pub fn start(
        settings: SessionSettings,
        client: ModelClient,
        runner: Arc<dyn CommandRunner>,
    ) -> Result<Session, StartSessionError> {
        let read_guard = ReadGuard::new(&settings.policy, &settings.codex_home);
        let tools = specs::tool_specs(client.model_family().apply_patch_tool);
        let now = Instant::now();
        let environment =
            context::environment_context(&settings.cwd, &settings.policy, &now.date());
        let mut pending_warnings = Vec::new();
        let (id, history, mut rollout, fresh) = match &settings.rollout {
            RolloutMode::Resume { saved, record } => {
                let mut history = saved.history.clone();
                history.push(ResponseItem::text_message("user", environment));
                let writer = if *record {
                    Some(RolloutWriter::append_to(&saved.path)?)
                } else {
                    None
                };
                let fresh = vec![history_last(&history)];
                (saved.id.clone(), history, writer, fresh)
            }
            mode => {
                let id = settings.session_id.clone();
                let docs = context::discover_project_docs(
                    &settings.cwd,
                    settings.project_doc_max_bytes,
                    &read_guard,
                );
                pending_warnings.extend(docs.warnings.iter().cloned());
                let history = vec![
                    ResponseItem::text_message("developer", BASE_INSTRUCTIONS),
                    context::initial_context_message(&settings.cwd, &docs, &environment),
                ];
                let writer = match mode {
                    RolloutMode::Create => {
                        let mut writer = RolloutWriter::create(&settings.codex_home, &id, now)?;
                        writer.record(
                            "session_meta",
                            json!({
                                "id": id,
                                "timestamp": now.rfc3339(),
                                "cwd": settings.cwd,
                                "originator": settings.originator,
                                "cli_version": settings.cli_version,
                                "source": "exec",
                                "model_provider": client.provider().id,
                                "model": client.model(),
                            }),
                        )?;
                        Some(writer)
                    }
                    _ => None,
                };
                let fresh = history.clone();
                (id, history, writer, fresh)
            }
        };
        if let Some(writer) = rollout.as_mut() {
            for item in &fresh {
                writer.record_item(item)?;
            }
        }
        let history_bytes = history.iter().map(item_size).sum();
        Ok(Session {
            id,
            client,
            runner,
            settings,
            tools,
            read_guard,
            history,
            history_bytes,
            rollout,
            interrupt: InterruptHandle::default(),
            pending_warnings,
        })
    }

    /// The session (thread) id: a version 7 UUID.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn rollout_path(&self) -> Option<&std::path::Path> {
        self.rollout.as_ref().map(RolloutWriter::path)
    }

    pub fn history(&self) -> &[ResponseItem] {
        &self.history
    }

    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.interrupt.clone()
    }

    /// Write a rollout record; a failure becomes a warning (the run goes on).
    fn record(&mut self, kind: &str, payload: Value, emit: &mut dyn FnMut(Event)) {
        if let Some(writer) = self.rollout.as_mut()
            && let Err(error) = writer.record(kind, payload)
        {
            emit(Event::Warning {
                message: error.to_string(),
            });
            self.rollout = None;
        }
    }

    fn push(&mut self, item: ResponseItem, emit: &mut dyn FnMut(Event)) {
        self.history_bytes += item_size(&item);
        let payload = serde_json::to_value(&item).unwrap_or(Value::Null);
        self.history.push(item);
        self.record("response_item", payload, emit);
    }

    /// Run one turn for `input` (the prompt text and images).
    pub fn run_turn(
        &mut self,
        input: Vec<ContentItem>,
        emit: &mut dyn FnMut(Event),
    ) -> TurnOutcome {
        for message in std::mem::take(&mut self.pending_warnings) {
            emit(Event::Warning { message });
        }
        emit(Event::TurnStarted);
        let turn_context = json!({
            "cwd": self.settings.cwd,
            "approval_policy": "never",
            "sandbox_mode": context::sandbox_mode_name(&self.settings.policy),
            "sandbox_policy": self.settings.policy,
            "model": self.client.model(),
        });
        self.record("turn_context", turn_context, emit);
        self.record("event_msg", json!({"type": "task_started"}), emit);
        self.push(
            ResponseItem::Message {
                id: None,
                role: "user".into(),
                content: input,
                status: None,
            },
            emit,
        );
        let mut usage = TurnUsage::default();
        let mut last_message: Option<String> = None;
        let outcome = loop {
            if let Some(reason) = self.interrupt.reason() {
                break TurnOutcome::Aborted { reason, usage };
            }
            if self.history_bytes > MAX_HISTORY_BYTES {
                break TurnOutcome::Failed {
                    message: format!(
                        "the conversation grew past {MAX_HISTORY_BYTES} bytes; start a new session with a narrower task"
                    ),
                    usage,
                };
            }
            let request = Request {
                input: self.history.clone(),
                tools: self.tools.clone(),
                instructions: None,
                output_schema: self.settings.output_schema.clone(),
                parallel_tool_calls: None,
            };
            let items = match self.stream_response(&request, &mut usage, emit) {
                Ok(items) => items,
                Err(StreamEnd::Aborted(reason)) => break TurnOutcome::Aborted { reason, usage },
                Err(StreamEnd::Failed(message)) => break TurnOutcome::Failed { message, usage },
            };
            let mut calls = Vec::new();
            let mut final_message = None;
            for item in items {
                if let Some(call) = ToolCall::from_item(&item) {
                    calls.push(call);
                } else if let ResponseItem::Message { role, .. } = &item
                    && role == "assistant"
                {
                    final_message = item.message_text();
                }
                self.push(item, emit);
            }
            if final_message.is_some() {
                last_message = final_message.clone();
            }
            if calls.is_empty() {
                break TurnOutcome::Completed {
                    last_agent_message: final_message.or(last_message),
                    usage,
                };
            }
            if let Some(reason) = self.answer_calls(&calls, emit) {
                break TurnOutcome::Aborted { reason, usage };
            }
        };
        self.finish_turn(&outcome, emit);
        outcome
    }

    /// Answer every call in order; `Some(reason)` when interrupted (the rest get `aborted`).
    fn answer_calls(
        &mut self,
        calls: &[ToolCall],
        emit: &mut dyn FnMut(Event),
    ) -> Option<AbortReason> {
        let mut extra = Vec::new();
        let mut aborted = None;
        for (index, call) in calls.iter().enumerate() {
            if aborted.is_none() {
                aborted = self.interrupt.reason();
            }
            let output = if aborted.is_some() {
                call.output(ABORTED_OUTPUT.into())
            } else if index >= MAX_TOOL_CALLS_PER_RESPONSE {
                call.output(format!(
                    "refused: more than {MAX_TOOL_CALLS_PER_RESPONSE} tool calls in one response; send fewer calls at a time"
                ))
            } else {
                let result = {
                    let mut context = ToolContext {
                        runner: self.runner.as_ref(),
                        policy: &self.settings.policy,
                        cwd: &self.settings.cwd,
                        env: &self.settings.command_env,
                        codex_exe: &self.settings.codex_exe,
                        read_guard: &self.read_guard,
                        cancel: &self.interrupt.commands,
                        emit,
                    };
                    handle_call(call, &mut context)
                };
                extra.extend(result.extra);
                result.output
            };
            self.push(output, emit);
        }
        for item in extra {
            self.push(item, emit);
        }
        aborted.or_else(|| self.interrupt.reason())
    }

    fn finish_turn(&mut self, outcome: &TurnOutcome, emit: &mut dyn FnMut(Event)) {
        match outcome {
            TurnOutcome::Completed {
                last_agent_message,
                usage,
            } => {
                self.record(
                    "event_msg",
                    json!({"type": "task_complete", "last_agent_message": last_agent_message}),
                    emit,
                );
                emit(Event::TurnComplete {
                    last_agent_message: last_agent_message.clone(),
                    usage: *usage,
                });
            }
            TurnOutcome::Failed { message, usage } => {
                self.record(
                    "event_msg",
                    json!({"type": "error", "message": message}),
                    emit,
                );
                emit(Event::TurnFailed {
                    message: message.clone(),
                    usage: *usage,
                });
            }
            TurnOutcome::Aborted { reason, usage } => {
                let reason_text = match reason {
                    AbortReason::Interrupted => "interrupted",
                    AbortReason::Terminated => "terminated",
                };
                self.record(
                    "event_msg",
                    json!({"type": "turn_aborted", "reason": reason_text}),
                    emit,
                );
                emit(Event::TurnAborted {
                    reason: *reason,
                    usage: *usage,
                });
            }
        }
    }

    /// One request: the items of the completed response, in order.
    fn stream_response(
        &mut self,
        request: &Request,
        usage: &mut TurnUsage,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Vec<ResponseItem>, StreamEnd> {
        let stream = self
            .client
            .stream(request)
            .map_err(|error| StreamEnd::Failed(error.to_string()))?;
        self.interrupt.set_stream(Some(stream.cancel_handle()));
        let mut items = Vec::new();
        let mut result = Ok(());
        for event in stream {
            match event {
                Ok(ResponseEvent::OutputItemDone(item)) => {
                    match &item {
                        ResponseItem::Message { role, .. } if role == "assistant" => {
                            emit(Event::AgentMessage {
                                text: item.message_text().unwrap_or_default(),
                            });
                        }
                        ResponseItem::Reasoning { summary, .. } => {
                            let text = summary
                                .iter()
                                .filter_map(|part| match part {
                                    codex_model_client::ReasoningPart::SummaryText { text }
                                    | codex_model_client::ReasoningPart::Text { text } => {
                                        Some(text.as_str())
                                    }
                                    _ => None,
                                })
                                .collect::<Vec<_>>()
                                .join("\n");
                            if !text.is_empty() {
                                emit(Event::Reasoning { text });
                            }
                        }
                        _ => {}
                    }
                    items.push(item);
                }
                Ok(ResponseEvent::Retrying(notice)) => emit(Event::StreamRetry {
                    message: notice.message(),
                }),
                Ok(ResponseEvent::Completed {
                    usage: Some(token_usage),
                    ..
                }) => {
                    usage.add(&token_usage);
                    emit(Event::TokenCount { usage: token_usage });
                }
                Ok(_) => {}
                Err(ModelError::Cancelled) => {
                    result = Err(StreamEnd::Aborted(
                        self.interrupt.reason().unwrap_or(AbortReason::Interrupted),
                    ));
                }
                Err(error) => result = Err(StreamEnd::Failed(error.to_string())),
            }
        }
        self.interrupt.set_stream(None);
        if result.is_ok()
            && let Some(reason) = self.interrupt.reason()
        {
            result = Err(StreamEnd::Aborted(reason));
        }
        match result {
            Ok(()) => Ok(items),
            Err(end) => {
                // Keep what the model said; calls of a failed attempt never arrive (the client
                // holds them back until the response completed).
                for item in items {
                    if !item.is_tool_call() {
                        self.push(item, emit);
                    }
                }
                Err(end)
            }
        }
    }
}

/// A fresh session id (a version 7 UUID).
pub fn new_session_id() -> String {
    uuid_v7()
}

enum StreamEnd {
    Aborted(AbortReason),
    Failed(String),
}

fn history_last(history: &[ResponseItem]) -> ResponseItem {
    history
        .last()
        .cloned()
        .unwrap_or_else(|| ResponseItem::text_message("user", ""))
}
