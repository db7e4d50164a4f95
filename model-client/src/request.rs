//! The request the agent hands over, what each model family supports, and the JSON body of
//! `POST /responses`.

use codex_config::{ModelSettings, ReasoningEffort, ReasoningSummary, Verbosity};
use serde::Serialize;
use serde::ser::Serializer;
use serde_json::Value;

use crate::wire::{ResponseItem, ToolSpec};

/// One model request: the whole history and the tools. Every request resends everything (no
/// `previous_response_id`), so zero-data-retention accounts work.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// The full history, oldest first (upstream 0.169 sends the base instructions as its first
    /// item, a `developer` message).
    pub input: Vec<ResponseItem>,
    pub tools: Vec<ToolSpec>,
    /// Sent as the top-level `instructions` key when set (upstream 0.169 sends none).
    pub instructions: Option<String>,
    /// A JSON Schema for the final message, sent as `text.format`.
    pub output_schema: Option<Value>,
    /// Overrides the model family's `parallel_tool_calls`.
    pub parallel_tool_calls: Option<bool>,
}

/// How the agent offers `apply_patch` to a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyPatchToolType {
    /// A custom tool with a lark grammar.
    Freeform,
    /// A function tool with one `input` string.
    Function,
}

/// What a model family supports (upstream's model metadata, reduced to what the request uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFamily {
    pub slug: String,
    /// Whether the slug is known; unknown slugs get upstream's fallback metadata.
    pub known: bool,
    pub supports_reasoning: bool,
    pub default_reasoning_effort: Option<ReasoningEffort>,
    pub supports_reasoning_summaries: bool,
    pub default_reasoning_summary: Option<ReasoningSummary>,
    pub supports_verbosity: bool,
    pub default_verbosity: Option<Verbosity>,
    pub parallel_tool_calls: bool,
    pub apply_patch_tool: ApplyPatchToolType,
}

/// The family of `slug` (prefix rules; unknown slugs behave like upstream's fallback: reasoning
/// with an `auto` summary, parallel tool calls, no verbosity).
pub fn model_family(slug: &str) -> ModelFamily {
    let name = slug.rsplit('/').next().unwrap_or(slug).to_ascii_lowercase();
    let mut family = ModelFamily {
        slug: slug.to_string(),
        known: true,
        supports_reasoning: true,
        default_reasoning_effort: None,
        supports_reasoning_summaries: true,
        default_reasoning_summary: Some(ReasoningSummary::Auto),
        supports_verbosity: false,
        default_verbosity: None,
        parallel_tool_calls: true,
        apply_patch_tool: ApplyPatchToolType::Function,
    };
    if name.starts_with("gpt-oss") {
        family.supports_reasoning_summaries = false;
        family.default_reasoning_summary = None;
    } else if name.starts_with("gpt-5") || name.starts_with("codex-") {
        family.default_reasoning_effort = Some(ReasoningEffort::Medium);
        family.default_reasoning_summary = None;
        family.supports_verbosity = true;
        family.default_verbosity = Some(Verbosity::Low);
        family.apply_patch_tool = ApplyPatchToolType::Freeform;
    } else if name.starts_with("o3") || name.starts_with("o4") {
        family.default_reasoning_effort = Some(ReasoningEffort::Medium);
    } else if name.starts_with("gpt-4") {
        family.supports_reasoning = false;
        family.supports_reasoning_summaries = false;
        family.default_reasoning_summary = None;
        family.parallel_tool_calls = false;
    } else {
        family.known = false;
    }
    family
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ReasoningParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    effort: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'static str>,
}

/// What every request of one client carries besides the agent's [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestDefaults {
    pub model: String,
    pub reasoning: Option<ReasoningParam>,
    pub verbosity: Option<Verbosity>,
    pub parallel_tool_calls: bool,
}

impl RequestDefaults {
    pub(crate) fn new(
        model: &str,
        family: &ModelFamily,
        settings: &ModelSettings,
    ) -> RequestDefaults {
        let reasoning = family.supports_reasoning.then(|| ReasoningParam {
            effort: settings
                .reasoning_effort
                .or(family.default_reasoning_effort)
                .map(ReasoningEffort::as_str),
            summary: settings
                .reasoning_summary
                .or(family.default_reasoning_summary)
                .filter(|summary| {
                    family.supports_reasoning_summaries && *summary != ReasoningSummary::None
                })
                .map(ReasoningSummary::as_str),
        });
        RequestDefaults {
            model: model.to_string(),
            reasoning,
            verbosity: settings
                .verbosity
                .or(family.default_verbosity)
                .filter(|_| family.supports_verbosity),
            parallel_tool_calls: family.parallel_tool_calls,
        }
    }
}

/// `input`: the agent's history followed by the items carried over from a retried attempt.
struct Input<'a> {
    history: &'a [ResponseItem],
    carried: &'a [ResponseItem],
}

impl Serialize for Input<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.history.iter().chain(self.carried))
    }
}

#[derive(Serialize)]
struct TextParam<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    verbosity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<TextFormat<'a>>,
}

#[derive(Serialize)]
struct TextFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    strict: bool,
    schema: &'a Value,
    name: &'static str,
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    input: Input<'a>,
    tools: &'a [ToolSpec],
    tool_choice: &'static str,
    parallel_tool_calls: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<&'a ReasoningParam>,
    store: bool,
    stream: bool,
    include: Vec<&'static str>,
    prompt_cache_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<TextParam<'a>>,
}

/// The JSON body of `POST /responses`.
pub(crate) fn request_body(
    defaults: &RequestDefaults,
    request: &Request,
    carried: &[ResponseItem],
    session_id: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let verbosity = defaults.verbosity.map(Verbosity::as_str);
    let format = request.output_schema.as_ref().map(|schema| TextFormat {
        kind: "json_schema",
        strict: true,
        schema,
        name: "codex_output_schema",
    });
    let text = (verbosity.is_some() || format.is_some()).then_some(TextParam { verbosity, format });
    let body = Body {
        model: &defaults.model,
        instructions: request.instructions.as_deref(),
        input: Input {
            history: &request.input,
            carried,
        },
        tools: &request.tools,
        tool_choice: "auto",
        parallel_tool_calls: request
            .parallel_tool_calls
            .unwrap_or(defaults.parallel_tool_calls),
        reasoning: defaults.reasoning.as_ref(),
        store: false,
        stream: true,
        include: if defaults.reasoning.is_some() {
            vec!["reasoning.encrypted_content"]
        } else {
            Vec::new()
        },
        prompt_cache_key: session_id,
        text,
    };
    serde_json::to_vec(&body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(model: &str, settings: &ModelSettings, request: &Request) -> Value {
        let defaults = RequestDefaults::new(model, &model_family(model), settings);
        serde_json::from_slice(&request_body(&defaults, request, &[], "sess-1").unwrap()).unwrap()
    }

    #[test]
    fn unknown_model_gets_the_upstream_fallback_body() {
        let request = Request {
            input: vec![ResponseItem::text_message("user", "hi")],
            ..Request::default()
        };
        assert_eq!(
            body("mock-model", &ModelSettings::default(), &request),
            json!({
                "model": "mock-model",
                "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
                "tools": [],
                "tool_choice": "auto",
                "parallel_tool_calls": true,
                "reasoning": {"summary": "auto"},
                "store": false,
                "stream": true,
                "include": ["reasoning.encrypted_content"],
                "prompt_cache_key": "sess-1",
            })
        );
    }

    #[test]
    fn gpt5_gets_effort_verbosity_and_the_output_schema() {
        let settings = ModelSettings {
            reasoning_effort: Some(ReasoningEffort::High),
            reasoning_summary: Some(ReasoningSummary::Detailed),
            ..ModelSettings::default()
        };
        let schema = json!({"type": "object"});
        let request = Request {
            output_schema: Some(schema.clone()),
            instructions: Some("be brief".into()),
            parallel_tool_calls: Some(false),
            ..Request::default()
        };
        let value = body("gpt-5.5", &settings, &request);
        assert_eq!(
            value["reasoning"],
            json!({"effort": "high", "summary": "detailed"})
        );
        assert_eq!(
            value["text"],
            json!({"verbosity": "low", "format": {"type": "json_schema", "strict": true, "schema": schema, "name": "codex_output_schema"}})
        );
        assert_eq!(value["instructions"], json!("be brief"));
        assert_eq!(value["parallel_tool_calls"], json!(false));
        assert!(value.get("previous_response_id").is_none());
    }

    #[test]
    fn models_without_reasoning_send_none_of_it() {
        let value = body("gpt-4.1", &ModelSettings::default(), &Request::default());
        assert!(value.get("reasoning").is_none() && value.get("text").is_none());
        assert_eq!(value["include"], json!([]));
        let summary_off = ModelSettings {
            reasoning_summary: Some(ReasoningSummary::None),
            ..ModelSettings::default()
        };
        assert_eq!(
            body("mock", &summary_off, &Request::default())["reasoning"],
            json!({})
        );
        assert_eq!(
            model_family("openai/gpt-oss-20b").apply_patch_tool,
            ApplyPatchToolType::Function
        );
        assert_eq!(
            model_family("gpt-5.5").apply_patch_tool,
            ApplyPatchToolType::Freeform
        );
    }
}
