//! Responses API server-sent events, framed as upstream's server sends them
//! (`event: <type>\ndata: <json>\n\n`). Each function returns one frame; pass a list of them to
//! [`crate::Reply::sse`].

use serde_json::{Value, json};

/// Frame `event` (its `type` becomes the `event:` line).
pub fn frame(event: &Value) -> String {
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    format!("event: {kind}\ndata: {event}\n\n")
}

pub fn created(response_id: &str) -> String {
    frame(&json!({"type": "response.created", "response": {"id": response_id}}))
}

pub fn output_text_delta(delta: &str) -> String {
    frame(&json!({"type": "response.output_text.delta", "delta": delta}))
}

pub fn reasoning_summary_delta(delta: &str, summary_index: u64) -> String {
    frame(&json!({
        "type": "response.reasoning_summary_text.delta",
        "delta": delta,
        "summary_index": summary_index,
    }))
}

/// `response.output_item.done` for `item`.
pub fn item_done(item: Value) -> String {
    frame(&json!({"type": "response.output_item.done", "item": item}))
}

/// An assistant message with one `output_text` part.
pub fn message(id: &str, text: &str) -> String {
    item_done(json!({
        "type": "message",
        "id": id,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }))
}

pub fn function_call(call_id: &str, name: &str, arguments: &str) -> String {
    item_done(json!({
        "type": "function_call",
        "id": format!("fc_{call_id}"),
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }))
}

pub fn custom_tool_call(call_id: &str, name: &str, input: &str) -> String {
    item_done(json!({
        "type": "custom_tool_call",
        "id": format!("ctc_{call_id}"),
        "status": "completed",
        "call_id": call_id,
        "name": name,
        "input": input,
    }))
}

/// A reasoning item with one summary part and encrypted content.
pub fn reasoning(id: &str, summary: &str, encrypted_content: &str) -> String {
    item_done(json!({
        "type": "reasoning",
        "id": id,
        "summary": [{"type": "summary_text", "text": summary}],
        "encrypted_content": encrypted_content,
    }))
}

/// `response.completed` with usage 100 input (20 cached), 10 output (3 reasoning), 110 total.
pub fn completed(response_id: &str) -> String {
    completed_with_usage(response_id, 100, 20, 10, 3)
}

pub fn completed_with_usage(
    response_id: &str,
    input_tokens: u64,
    cached_tokens: u64,
    output_tokens: u64,
    reasoning_tokens: u64,
) -> String {
    frame(&json!({
        "type": "response.completed",
        "response": {
            "id": response_id,
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": cached_tokens},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
                "total_tokens": input_tokens + output_tokens,
            },
        },
    }))
}

/// `response.failed` with `response.error {code, message}`.
pub fn failed(response_id: &str, code: &str, message: &str) -> String {
    frame(&json!({
        "type": "response.failed",
        "response": {
            "id": response_id,
            "error": {"code": code, "message": message},
        },
    }))
}

/// A whole successful answer: created, one delta, the message, completed.
pub fn answer(response_id: &str, text: &str) -> Vec<String> {
    vec![
        created(response_id),
        output_text_delta(text),
        message(&format!("msg_{response_id}"), text),
        completed(response_id),
    ]
}
