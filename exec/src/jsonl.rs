//! `--json`: one JSON object per line on stdout, upstream's event shapes (`thread.started`,
//! `turn.*`, `item.*`, `error`). The JSON Schema of every line is [`event_schema`], committed as
//! `exec/schema/exec-events.schema.json`.

use std::collections::HashMap;

use codex_core::{AbortReason, CommandStatus, Event, PatchChangeKind, PlanStepStatus, TurnUsage};
use serde_json::{Value, json};

/// Turns core events into JSONL lines.
#[derive(Debug, Default)]
pub struct JsonlMapper {
    next_item: u64,
    /// `call_id` → item id of a started command or patch.
    open: HashMap<String, String>,
    /// The todo list item, once a plan was set.
    todo: Option<(String, Value)>,
}

fn usage_json(usage: &TurnUsage) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_output_tokens": usage.reasoning_output_tokens,
    })
}

impl JsonlMapper {
    fn next_id(&mut self) -> String {
        let id = format!("item_{}", self.next_item);
        self.next_item += 1;
        id
    }

    fn item(kind: &str, item: Value) -> Value {
        json!({"type": kind, "item": item})
    }

    /// The first line.
    pub fn thread_started(&self, thread_id: &str) -> Value {
        json!({"type": "thread.started", "thread_id": thread_id})
    }

    /// A non-fatal problem as an `error` item (config warnings and the like).
    pub fn warning(&mut self, message: &str) -> Value {
        let id = self.next_id();
        Self::item(
            "item.completed",
            json!({"id": id, "type": "error", "message": message}),
        )
    }

    /// The lines for one event (often one, sometimes none or two).
    pub fn map(&mut self, event: &Event) -> Vec<Value> {
        match event {
            Event::TurnStarted => vec![json!({"type": "turn.started"})],
            Event::Reasoning { text } => {
                let id = self.next_id();
                vec![Self::item(
                    "item.completed",
                    json!({"id": id, "type": "reasoning", "text": text}),
                )]
            }
            Event::AgentMessage { text } => {
                let id = self.next_id();
                vec![Self::item(
                    "item.completed",
                    json!({"id": id, "type": "agent_message", "text": text}),
                )]
            }
            Event::CommandBegin {
                call_id, command, ..
            } => {
                let id = self.next_id();
                self.open.insert(call_id.clone(), id.clone());
                vec![Self::item(
                    "item.started",
                    json!({"id": id, "type": "command_execution", "command": command,
                           "aggregated_output": "", "exit_code": null, "status": "in_progress"}),
                )]
            }
            Event::CommandEnd {
                call_id,
                command,
                exit_code,
                status,
                aggregated_output,
                ..
            } => {
                let id = self.open.remove(call_id).unwrap_or_else(|| self.next_id());
                let status = match status {
                    CommandStatus::Completed => "completed",
                    CommandStatus::Failed => "failed",
                    CommandStatus::Declined => "declined",
                };
                vec![Self::item(
                    "item.completed",
                    json!({"id": id, "type": "command_execution", "command": command,
                           "aggregated_output": aggregated_output, "exit_code": exit_code,
                           "status": status}),
                )]
            }
            Event::PatchBegin { call_id, changes } => {
                let id = self.next_id();
                self.open.insert(call_id.clone(), id.clone());
                vec![Self::item(
                    "item.started",
                    json!({"id": id, "type": "file_change", "changes": changes_json(changes),
                           "status": "in_progress"}),
                )]
            }
            Event::PatchEnd {
                call_id,
                changes,
                success,
                ..
            } => {
                let id = self.open.remove(call_id).unwrap_or_else(|| self.next_id());
                vec![Self::item(
                    "item.completed",
                    json!({"id": id, "type": "file_change", "changes": changes_json(changes),
                           "status": if *success { "completed" } else { "failed" }}),
                )]
            }
            Event::PlanUpdate { plan, .. } => {
                let items: Vec<Value> = plan
                    .iter()
                    .map(|step| {
                        json!({"text": step.step, "completed": step.status == PlanStepStatus::Completed})
                    })
                    .collect();
                let (kind, id) = match &self.todo {
                    Some((id, _)) => ("item.updated", id.clone()),
                    None => ("item.started", self.next_id()),
                };
                let item = json!({"id": id, "type": "todo_list", "items": items});
                self.todo = Some((id, item.clone()));
                vec![Self::item(kind, item)]
            }
            Event::ImageViewed { .. } | Event::TokenCount { .. } => Vec::new(),
            Event::Warning { message } => vec![self.warning(message)],
            Event::StreamRetry { message } => vec![json!({"type": "error", "message": message})],
            Event::TurnComplete { usage, .. } => {
                let mut lines = self.close_todo();
                lines.push(json!({"type": "turn.completed", "usage": usage_json(usage)}));
                lines
            }
            Event::TurnFailed { message, .. } => {
                let mut lines = self.close_todo();
                lines.push(json!({"type": "error", "message": message}));
                lines.push(json!({"type": "turn.failed", "error": {"message": message}}));
                lines
            }
            Event::TurnAborted { reason, .. } => {
                let mut lines = self.close_todo();
                let message = match reason {
                    AbortReason::Interrupted => "turn interrupted (SIGINT)",
                    AbortReason::Terminated => "turn terminated (SIGTERM)",
                };
                lines.push(json!({"type": "turn.failed", "error": {"message": message}}));
                lines
            }
        }
    }

    fn close_todo(&mut self) -> Vec<Value> {
        self.todo
            .take()
            .map(|(_, item)| Self::item("item.completed", item))
            .into_iter()
            .collect()
    }
}

fn changes_json(changes: &[codex_core::PatchFileChange]) -> Value {
    Value::Array(
        changes
            .iter()
            .map(|change| {
                let kind = match change.kind {
                    PatchChangeKind::Add => "add",
                    PatchChangeKind::Delete => "delete",
                    PatchChangeKind::Update { .. } => "update",
                };
                json!({"path": change.path.to_string_lossy(), "kind": kind})
            })
            .collect(),
    )
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn item_schema(
    kind: &str,
    mut properties: serde_json::Map<String, Value>,
    required: &[&str],
) -> Value {
    properties.insert(
        "id".into(),
        json!({"type": "string", "pattern": "^item_[0-9]+$"}),
    );
    properties.insert("type".into(), json!({"const": kind}));
    let mut all = vec!["id", "type"];
    all.extend_from_slice(required);
    object(Value::Object(properties), &all)
}

fn props(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// The JSON Schema (draft 2020-12) of one `--json` line.
pub fn event_schema() -> Value {
    let string = json!({"type": "string"});
    let count = json!({"type": "integer", "minimum": 0});
    let items = vec![
        item_schema("agent_message", props(json!({"text": string})), &["text"]),
        item_schema("reasoning", props(json!({"text": string})), &["text"]),
        item_schema(
            "command_execution",
            props(json!({
                "command": string,
                "aggregated_output": string,
                "exit_code": {"type": ["integer", "null"]},
                "status": {"enum": ["in_progress", "completed", "failed", "declined"]},
            })),
            &["command", "aggregated_output", "exit_code", "status"],
        ),
        item_schema(
            "file_change",
            props(json!({
                "changes": {"type": "array", "items": object(json!({
                    "path": string,
                    "kind": {"enum": ["add", "delete", "update"]},
                }), &["path", "kind"])},
                "status": {"enum": ["in_progress", "completed", "failed"]},
            })),
            &["changes", "status"],
        ),
        item_schema(
            "todo_list",
            props(json!({
                "items": {"type": "array", "items": object(json!({
                    "text": string,
                    "completed": {"type": "boolean"},
                }), &["text", "completed"])},
            })),
            &["items"],
        ),
        item_schema("error", props(json!({"message": string})), &["message"]),
    ];
    let item_event = |kind: &str| {
        object(
            json!({"type": {"const": kind}, "item": {"$ref": "#/$defs/item"}}),
            &["type", "item"],
        )
    };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "codex exec --json event",
        "description": "One line of `codex exec --json` output.",
        "oneOf": [
            object(json!({"type": {"const": "thread.started"}, "thread_id": string}), &["type", "thread_id"]),
            object(json!({"type": {"const": "turn.started"}}), &["type"]),
            object(json!({"type": {"const": "turn.completed"}, "usage": object(json!({
                "input_tokens": count,
                "cached_input_tokens": count,
                "output_tokens": count,
                "reasoning_output_tokens": count,
            }), &["input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens"])}), &["type", "usage"]),
            object(json!({"type": {"const": "turn.failed"}, "error": object(json!({"message": string}), &["message"])}), &["type", "error"]),
            object(json!({"type": {"const": "error"}, "message": string}), &["type", "message"]),
            item_event("item.started"),
            item_event("item.updated"),
            item_event("item.completed"),
        ],
        "$defs": {"item": {"oneOf": items}},
    })
}

/// [`event_schema`] as the committed file's text.
pub fn event_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&event_schema()).unwrap_or_default();
    text.push('\n');
    text
}
