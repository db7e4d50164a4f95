//! `update_plan` and `view_image`.

use std::path::Path;

use base64::Engine;
use codex_model_client::ResponseItem;
use serde_json::Value;

use crate::events::{Event, PlanStep, PlanStepStatus};
use crate::tools::{ToolContext, image_message};

/// Largest image `view_image` attaches.
const MAX_IMAGE_BYTES: u64 = 20 << 20;
/// Most plan steps accepted.
const MAX_PLAN_STEPS: usize = 100;

pub(crate) fn update_plan(arguments: &Value, context: &mut ToolContext<'_>) -> String {
    let Some(steps) = arguments.get("plan").and_then(Value::as_array) else {
        return "failed to parse function arguments: missing field `plan`".into();
    };
    if steps.len() > MAX_PLAN_STEPS {
        return format!(
            "failed to parse function arguments: a plan has at most {MAX_PLAN_STEPS} steps"
        );
    }
    let mut plan = Vec::with_capacity(steps.len());
    for step in steps {
        let text = step.get("step").and_then(Value::as_str);
        let status = match step.get("status").and_then(Value::as_str) {
            Some("pending") => Some(PlanStepStatus::Pending),
            Some("in_progress") => Some(PlanStepStatus::InProgress),
            Some("completed") => Some(PlanStepStatus::Completed),
            _ => None,
        };
        match (text, status) {
            (Some(text), Some(status)) => plan.push(PlanStep {
                step: text.to_string(),
                status,
            }),
            _ => {
                return "failed to parse function arguments: each plan step needs `step` and a `status` of pending, in_progress or completed".into();
            }
        }
    }
    (context.emit)(Event::PlanUpdate {
        explanation: arguments
            .get("explanation")
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string),
        plan,
    });
    "Plan updated".into()
}

fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// `data:<mime>;base64,…` for a PNG, JPEG, GIF or WebP file (sniffed from its bytes, not its
/// name); `None` for anything else.
pub fn image_data_url(bytes: &[u8]) -> Option<String> {
    let mime = image_mime(bytes)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Some(format!("data:{mime};base64,{encoded}"))
}

/// The image as a user message, read through the guard (never a link to a secret).
pub(crate) fn view_image(
    call_id: &str,
    arguments: &Value,
    context: &mut ToolContext<'_>,
) -> Result<ResponseItem, String> {
    let Some(path) = arguments.get("path").and_then(Value::as_str) else {
        return Err("failed to parse function arguments: missing field `path`".into());
    };
    let path = Path::new(path);
    let bytes = context
        .read_guard
        .read(path, context.cwd, MAX_IMAGE_BYTES)
        .map_err(|error| format!("unable to attach image: {error}"))?;
    let Some(data_url) = image_data_url(&bytes) else {
        return Err(format!(
            "unable to attach image: `{}` is not a PNG, JPEG, GIF or WebP file",
            path.display()
        ));
    };
    (context.emit)(Event::ImageViewed {
        call_id: call_id.to_string(),
        path: codex_sandboxing::normalize(&context.cwd.join(path)),
    });
    Ok(image_message(data_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_sniffing() {
        assert_eq!(image_mime(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_mime(b"GIF89a.."), Some("image/gif"));
        assert_eq!(image_mime(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_mime(b"OPENAI_API_KEY=sk"), None);
    }
}
