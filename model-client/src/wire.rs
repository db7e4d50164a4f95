//! Responses API items and tools, serialised exactly as the API spells them. The same types
//! carry the agent's history and rollouts. Unknown item, content and tool types are kept as
//! JSON (`Other`) and sent back unchanged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One item of `input` (and of the model's output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseItem {
    Message {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// `user`, `assistant`, `developer` or `system`.
        role: String,
        content: Vec<ContentItem>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
    },
    Reasoning {
        #[serde(default)]
        id: String,
        #[serde(default)]
        summary: Vec<ReasoningPart>,
        /// Raw reasoning (sent back as `null` when absent, as upstream does).
        #[serde(default)]
        content: Option<Vec<ReasoningPart>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    FunctionCall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        call_id: String,
        name: String,
        /// The JSON arguments as the model wrote them (not validated here).
        arguments: String,
    },
    FunctionCallOutput {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        call_id: String,
        output: String,
    },
    CustomToolCall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        call_id: String,
        name: String,
        input: String,
    },
    CustomToolCallOutput {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        call_id: String,
        output: String,
    },
    /// Any other item type (`local_shell_call`, `web_search_call`, …), kept verbatim.
    #[serde(untagged)]
    Other(Value),
}

impl ResponseItem {
    /// A message with one text part: `input_text` for user/developer/system, `output_text`
    /// for the assistant.
    pub fn text_message(role: &str, text: impl Into<String>) -> ResponseItem {
        let text = text.into();
        let part = if role == "assistant" {
            ContentItem::OutputText { text }
        } else {
            ContentItem::InputText { text }
        };
        ResponseItem::Message {
            id: None,
            role: role.to_string(),
            content: vec![part],
            status: None,
        }
    }

    /// Whether this is a call the agent must answer (`function_call` / `custom_tool_call`).
    pub fn is_tool_call(&self) -> bool {
        matches!(
            self,
            ResponseItem::FunctionCall { .. } | ResponseItem::CustomToolCall { .. }
        )
    }

    /// The text of a message's text parts, concatenated (`None` for other items).
    pub fn message_text(&self) -> Option<String> {
        let ResponseItem::Message { content, .. } = self else {
            return None;
        };
        Some(
            content
                .iter()
                .filter_map(|part| match part {
                    ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                        Some(text.as_str())
                    }
                    _ => None,
                })
                .collect(),
        )
    }
}

/// One part of a message's `content`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentItem {
    InputText {
        text: String,
    },
    OutputText {
        text: String,
    },
    InputImage {
        /// A `data:` URL or an https URL.
        image_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    #[serde(untagged)]
    Other(Value),
}

/// A part of a reasoning item's `summary` (`summary_text`) or `content` (`reasoning_text`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReasoningPart {
    SummaryText {
        text: String,
    },
    ReasoningText {
        text: String,
    },
    Text {
        text: String,
    },
    #[serde(untagged)]
    Other(Value),
}

/// One entry of `tools`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolSpec {
    /// `{"type":"function",name,description,"strict":false,parameters}`.
    Function {
        name: String,
        description: String,
        #[serde(default)]
        strict: bool,
        /// A JSON Schema object.
        parameters: Value,
    },
    /// A freeform tool: `{"type":"custom",name,description,format}` (e.g. a lark grammar).
    Custom {
        name: String,
        description: String,
        format: Value,
    },
    /// Any other tool (`web_search`, `local_shell`, …), sent verbatim.
    #[serde(untagged)]
    Json(Value),
}

/// Token counts of one response (`response.completed.usage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    /// `input_tokens_details.cached_tokens`.
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// `output_tokens_details.reasoning_tokens`.
    pub reasoning_output_tokens: u64,
    pub total_tokens: u64,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn items_round_trip_in_the_api_shape() {
        let items = json!([
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "hi"}]},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image", "image_url": "data:image/png;base64,AA=="}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "s"}],
             "content": null, "encrypted_content": "enc"},
            {"type": "function_call", "id": "fc_1", "status": "completed", "call_id": "c1",
             "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"},
            {"type": "function_call_output", "call_id": "c1", "output": "done"},
            {"type": "custom_tool_call", "status": "completed", "call_id": "c2",
             "name": "apply_patch", "input": "*** Begin Patch"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "ok"},
            {"type": "web_search_call", "id": "ws_1", "action": {"query": "x"}},
        ]);
        let parsed: Vec<ResponseItem> = serde_json::from_value(items.clone()).unwrap();
        assert!(matches!(parsed[7], ResponseItem::Other(_)));
        assert!(parsed[3].is_tool_call() && parsed[5].is_tool_call());
        assert_eq!(parsed[0].message_text().as_deref(), Some("hi"));
        assert_eq!(serde_json::to_value(&parsed).unwrap(), items);
    }

    #[test]
    fn unknown_content_and_missing_optional_fields() {
        let item: ResponseItem = serde_json::from_value(json!({
            "type": "message", "role": "assistant",
            "content": [{"type": "refusal", "refusal": "no"}, {"type": "output_text", "text": "a", "annotations": []}]
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({"type": "message", "role": "assistant",
                   "content": [{"type": "refusal", "refusal": "no"}, {"type": "output_text", "text": "a"}]})
        );
        let reasoning: ResponseItem =
            serde_json::from_value(json!({"type": "reasoning", "id": "rs"})).unwrap();
        assert_eq!(
            serde_json::to_value(&reasoning).unwrap(),
            json!({"type": "reasoning", "id": "rs", "summary": [], "content": null})
        );
    }

    #[test]
    fn tools_serialize_as_the_api_expects() {
        let tools = vec![
            ToolSpec::Function {
                name: "exec_command".into(),
                description: "run".into(),
                strict: false,
                parameters: json!({"type": "object", "properties": {}}),
            },
            ToolSpec::Custom {
                name: "apply_patch".into(),
                description: "patch".into(),
                format: json!({"type": "grammar", "syntax": "lark", "definition": "start: x"}),
            },
            ToolSpec::Json(json!({"type": "web_search", "external_web_access": false})),
        ];
        assert_eq!(
            serde_json::to_value(&tools).unwrap(),
            json!([
                {"type": "function", "name": "exec_command", "description": "run", "strict": false,
                 "parameters": {"type": "object", "properties": {}}},
                {"type": "custom", "name": "apply_patch", "description": "patch",
                 "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
                {"type": "web_search", "external_web_access": false},
            ])
        );
    }
}
