//! Tool calls: the registry the model sees ([`specs`]) and their execution. Every command runs
//! through the session's [`CommandRunner`]; the agent itself only reads files through the
//! [`ReadGuard`].

mod misc;
pub use misc::image_data_url;
mod patch;
mod shell;
pub mod specs;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use codex_model_client::{ContentItem, ResponseItem};
use codex_sandboxing::SandboxPolicy;

use crate::events::Event;
use crate::runner::{CancelToken, CommandRunner};
use crate::safe_read::ReadGuard;

/// Most tool calls answered from one response; the rest get a refusal (no command runs).
pub const MAX_TOOL_CALLS_PER_RESPONSE: usize = 128;

/// What a tool needs from the session.
pub struct ToolContext<'a> {
    pub runner: &'a dyn CommandRunner,
    pub policy: &'a SandboxPolicy,
    pub cwd: &'a Path,
    /// The command environment (secrets already left out).
    pub env: &'a [(OsString, OsString)],
    /// The `codex` executable that applies patches inside the sandbox.
    pub codex_exe: &'a Path,
    pub read_guard: &'a ReadGuard,
    pub cancel: &'a CancelToken,
    pub emit: &'a mut dyn FnMut(Event),
}

/// A call from a completed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolCall {
    Function {
        call_id: String,
        name: String,
        arguments: String,
    },
    Custom {
        call_id: String,
        name: String,
        input: String,
    },
}

impl ToolCall {
    pub fn from_item(item: &ResponseItem) -> Option<ToolCall> {
        match item {
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => Some(ToolCall::Function {
                call_id: call_id.clone(),
                name: name.clone(),
                arguments: arguments.clone(),
            }),
            ResponseItem::CustomToolCall {
                call_id,
                name,
                input,
                ..
            } => Some(ToolCall::Custom {
                call_id: call_id.clone(),
                name: name.clone(),
                input: input.clone(),
            }),
            _ => None,
        }
    }

    /// The output item answering this call with `output`.
    pub fn output(&self, output: String) -> ResponseItem {
        match self {
            ToolCall::Function { call_id, .. } => ResponseItem::FunctionCallOutput {
                id: None,
                call_id: call_id.clone(),
                output,
            },
            ToolCall::Custom { call_id, .. } => ResponseItem::CustomToolCallOutput {
                id: None,
                call_id: call_id.clone(),
                output,
            },
        }
    }
}

/// The answer to one call, plus items to add after all outputs (attached images).
pub struct ToolResult {
    pub output: ResponseItem,
    pub extra: Vec<ResponseItem>,
}

/// Run one call. Never fails: every problem becomes the output the model reads.
pub fn handle_call(call: &ToolCall, context: &mut ToolContext<'_>) -> ToolResult {
    let plain = |text: String| ToolResult {
        output: call.output(text),
        extra: Vec::new(),
    };
    match call {
        ToolCall::Function {
            call_id,
            name,
            arguments,
        } => {
            let arguments: serde_json::Value = match serde_json::from_str(arguments) {
                Ok(value) => value,
                Err(error) => return plain(format!("failed to parse function arguments: {error}")),
            };
            match name.as_str() {
                specs::EXEC_COMMAND => plain(shell::exec_command(call_id, &arguments, context)),
                specs::APPLY_PATCH => match arguments.get("input").and_then(|v| v.as_str()) {
                    Some(input) => plain(patch::apply_patch_text(
                        call_id,
                        input,
                        context.cwd,
                        context,
                    )),
                    None => {
                        plain("failed to parse function arguments: missing field `input`".into())
                    }
                },
                specs::UPDATE_PLAN => plain(misc::update_plan(&arguments, context)),
                specs::VIEW_IMAGE => match misc::view_image(call_id, &arguments, context) {
                    Ok(image) => ToolResult {
                        output: call.output("attached local image path".into()),
                        extra: vec![image],
                    },
                    Err(message) => plain(message),
                },
                other => plain(format!("unsupported call: {other}")),
            }
        }
        ToolCall::Custom {
            call_id,
            name,
            input,
        } => match name.as_str() {
            specs::APPLY_PATCH => plain(patch::apply_patch_text(
                call_id,
                input,
                context.cwd,
                context,
            )),
            other => plain(format!("unsupported custom tool call: {other}")),
        },
    }
}

/// `workdir` against the turn's cwd.
pub(crate) fn resolve_workdir(cwd: &Path, workdir: Option<&str>) -> PathBuf {
    match workdir {
        Some(dir) if !dir.is_empty() => codex_sandboxing::normalize(&cwd.join(dir)),
        _ => cwd.to_path_buf(),
    }
}

/// The user message holding an attached image.
pub(crate) fn image_message(data_url: String) -> ResponseItem {
    ResponseItem::Message {
        id: None,
        role: "user".into(),
        content: vec![ContentItem::InputImage {
            image_url: data_url,
            detail: None,
        }],
        status: None,
    }
}
