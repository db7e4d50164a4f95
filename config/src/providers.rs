//! Model settings: `model`, `model_provider`, `[model_providers.<id>]`, `openai_base_url`,
//! `oss_provider`, reasoning and verbosity, and `[model_stream_limits]`, each with the layer that
//! set it (so the model client can refuse a project layer that points credentials elsewhere).
//!
//! Built-in providers (`openai`, `ollama`, `lmstudio`) cannot be redefined: a configured entry
//! with one of their ids is ignored with a warning, as upstream does.

use std::collections::BTreeMap;
use std::fmt;

use toml::{Table, Value};

use crate::error::LoadConfigError;
use crate::layers::{ConfigLayer, LayerSource};
use crate::loader::{invalid_at, origin_layer};
use crate::schema::Node;
use crate::schema::build::*;

/// Ids of the providers the model client defines itself.
pub const BUILT_IN_MODEL_PROVIDERS: &[&str] = &["openai", "ollama", "lmstudio"];

/// Upstream's cap on both retry counts.
const MAX_RETRIES: u64 = 100;

const REASONING_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];
const REASONING_SUMMARIES: &[&str] = &["auto", "concise", "detailed", "none"];
const VERBOSITIES: &[&str] = &["low", "medium", "high"];
const OSS_PROVIDERS: &[&str] = &["ollama", "lmstudio"];

/// `model_reasoning_effort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    XHigh,
}

impl ReasoningEffort {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::None => "none",
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
            ReasoningEffort::XHigh => "xhigh",
        }
    }

    fn parse(text: &str) -> Option<ReasoningEffort> {
        Some(match text {
            "none" => ReasoningEffort::None,
            "minimal" => ReasoningEffort::Minimal,
            "low" => ReasoningEffort::Low,
            "medium" => ReasoningEffort::Medium,
            "high" => ReasoningEffort::High,
            "xhigh" => ReasoningEffort::XHigh,
            _ => return None,
        })
    }
}

/// `model_reasoning_summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningSummary {
    Auto,
    Concise,
    Detailed,
    /// Sent as no summary at all.
    None,
}

impl ReasoningSummary {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningSummary::Auto => "auto",
            ReasoningSummary::Concise => "concise",
            ReasoningSummary::Detailed => "detailed",
            ReasoningSummary::None => "none",
        }
    }

    fn parse(text: &str) -> Option<ReasoningSummary> {
        Some(match text {
            "auto" => ReasoningSummary::Auto,
            "concise" => ReasoningSummary::Concise,
            "detailed" => ReasoningSummary::Detailed,
            "none" => ReasoningSummary::None,
            _ => return None,
        })
    }
}

/// `model_verbosity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Low,
    Medium,
    High,
}

impl Verbosity {
    pub fn as_str(self) -> &'static str {
        match self {
            Verbosity::Low => "low",
            Verbosity::Medium => "medium",
            Verbosity::High => "high",
        }
    }

    fn parse(text: &str) -> Option<Verbosity> {
        Some(match text {
            "low" => Verbosity::Low,
            "medium" => Verbosity::Medium,
            "high" => Verbosity::High,
            _ => return None,
        })
    }
}

/// `oss_provider` (and `--local-provider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OssProvider {
    Ollama,
    LmStudio,
}

impl OssProvider {
    /// The provider id (`ollama` / `lmstudio`).
    pub fn id(self) -> &'static str {
        match self {
            OssProvider::Ollama => "ollama",
            OssProvider::LmStudio => "lmstudio",
        }
    }

    pub fn parse(text: &str) -> Option<OssProvider> {
        match text {
            "ollama" => Some(OssProvider::Ollama),
            "lmstudio" => Some(OssProvider::LmStudio),
            _ => None,
        }
    }
}

/// `[model_stream_limits]`: bounds on one model response (not upstream). A response over any
/// of them fails with an error naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Bytes of one response stream (`max_response_bytes`, default 256 MiB).
    pub max_response_bytes: u64,
    /// Bytes of one SSE record, e.g. one delta or one tool call (`max_event_bytes`, 16 MiB).
    pub max_event_bytes: u64,
    /// Output items (messages, reasoning, tool calls) in one response (`max_output_items`, 1024).
    pub max_output_items: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_response_bytes: 256 << 20,
            max_event_bytes: 16 << 20,
            max_output_items: 1024,
        }
    }
}

/// One configured `[model_providers.<id>]` entry. `Debug` hides the bearer token and header
/// values.
#[derive(Clone, PartialEq)]
pub struct ProviderConfig {
    pub id: String,
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub env_key: Option<String>,
    pub env_key_instructions: Option<String>,
    pub experimental_bearer_token: Option<String>,
    pub query_params: BTreeMap<String, String>,
    pub http_headers: BTreeMap<String, String>,
    /// Header name → environment variable holding its value.
    pub env_http_headers: BTreeMap<String, String>,
    /// Capped at 100 (upstream).
    pub request_max_retries: Option<u64>,
    /// Capped at 100 (upstream).
    pub stream_max_retries: Option<u64>,
    pub stream_idle_timeout_ms: Option<u64>,
    pub requires_openai_auth: bool,
    /// First retry delay before jitter and doubling (not upstream; default 200 ms).
    pub retry_base_delay_ms: Option<u64>,
    /// Longest single retry wait, whatever `Retry-After` asks (not upstream; default 60 s).
    pub retry_max_delay_ms: Option<u64>,
    /// The layer that set each key of this entry (`base_url` → its layer, …).
    pub origins: BTreeMap<String, LayerSource>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("env_key", &self.env_key)
            .field(
                "experimental_bearer_token",
                &self
                    .experimental_bearer_token
                    .as_ref()
                    .map(|_| "<redacted>"),
            )
            .field("query_params", &self.query_params.keys())
            .field("http_headers", &self.http_headers.keys())
            .field("env_http_headers", &self.env_http_headers)
            .field("request_max_retries", &self.request_max_retries)
            .field("stream_max_retries", &self.stream_max_retries)
            .field("stream_idle_timeout_ms", &self.stream_idle_timeout_ms)
            .field("requires_openai_auth", &self.requires_openai_auth)
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

/// A value and the layer that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub layer: LayerSource,
}

/// Everything the model client reads from the configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelSettings {
    pub model: Option<String>,
    /// `model_provider` (the client defaults to `openai`).
    pub model_provider: Option<Sourced<String>>,
    /// Configured entries, built-in ids left out.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Redirects the built-in `openai` provider.
    pub openai_base_url: Option<Sourced<String>>,
    pub oss_provider: Option<OssProvider>,
    pub reasoning_effort: Option<ReasoningEffort>,
    pub reasoning_summary: Option<ReasoningSummary>,
    pub verbosity: Option<Verbosity>,
    pub stream_limits: StreamLimits,
}

fn provider_schema() -> Node {
    let retries = || integer(Some(0)).describe("Capped at 100.");
    table(vec![
        ("name", string().describe("Display name.")),
        (
            "base_url",
            string().describe("Base URL; requests go to `<base_url>/responses`."),
        ),
        (
            "env_key",
            string().describe("Environment variable holding the bearer token."),
        ),
        (
            "env_key_instructions",
            string().describe("Shown when `env_key` is not set."),
        ),
        (
            "experimental_bearer_token",
            string().describe("A literal bearer token (prefer `env_key`)."),
        ),
        (
            "wire_api",
            one_of(&["responses", "chat"])
                .describe("Only `responses` is supported; `chat` is refused."),
        ),
        (
            "query_params",
            map(string()).describe("Appended to the request URL."),
        ),
        (
            "http_headers",
            map(string()).describe("Extra request headers."),
        ),
        (
            "env_http_headers",
            map(string()).describe("Header name → environment variable with its value."),
        ),
        ("request_max_retries", retries()),
        ("stream_max_retries", retries()),
        (
            "stream_idle_timeout_ms",
            integer(Some(1)).describe("Fail a stream silent for this long (default 300000)."),
        ),
        (
            "requires_openai_auth",
            boolean().describe("Send the signed-in OpenAI credentials to this provider."),
        ),
        (
            "retry_base_delay_ms",
            integer(Some(0)).describe("First retry delay before doubling (default 200)."),
        ),
        (
            "retry_max_delay_ms",
            integer(Some(0)).describe("Longest wait for one retry (default 60000)."),
        ),
        // Upstream keys this build does not use.
        ("websocket_connect_timeout_ms", any()),
        ("supports_websockets", any()),
        ("auth", any()),
        ("aws", any()),
    ])
}

/// The top-level fields this module owns, for the format description.
pub(crate) fn schema_fields() -> Vec<(&'static str, Node)> {
    vec![
        ("model", string().describe("The model slug.")),
        (
            "model_provider",
            string().describe("Provider id: `openai`, `ollama`, `lmstudio` or a configured one."),
        ),
        (
            "model_providers",
            map(provider_schema()).describe("Additional model providers."),
        ),
        (
            "openai_base_url",
            string().describe("Base URL of the built-in `openai` provider."),
        ),
        (
            "oss_provider",
            one_of(OSS_PROVIDERS).describe("Local provider used by `--oss`."),
        ),
        ("model_reasoning_effort", one_of(REASONING_EFFORTS)),
        ("model_reasoning_summary", one_of(REASONING_SUMMARIES)),
        ("model_verbosity", one_of(VERBOSITIES)),
        (
            "model_stream_limits",
            table(vec![
                ("max_response_bytes", integer(Some(1))),
                ("max_event_bytes", integer(Some(1))),
                ("max_output_items", integer(Some(1))),
            ])
            .describe("Bounds on one model response."),
        ),
    ]
}

fn path_of(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|part| (*part).to_string()).collect()
}

fn text(table: &Table, key: &str) -> Option<String> {
    table.get(key).and_then(Value::as_str).map(str::to_string)
}

fn number(table: &Table, key: &str) -> Option<u64> {
    table
        .get(key)
        .and_then(Value::as_integer)
        .and_then(|value| u64::try_from(value).ok())
}

fn string_map(table: &Table, key: &str) -> BTreeMap<String, String> {
    table
        .get(key)
        .and_then(Value::as_table)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn sourced(layers: &[ConfigLayer], merged: &Table, key: &str) -> Option<Sourced<String>> {
    let path = path_of(&[key]);
    let value = text(merged, key)?;
    let layer = origin_layer(layers, &path)?.source.clone();
    Some(Sourced { value, layer })
}

fn provider(
    layers: &[ConfigLayer],
    id: &str,
    entry: &Table,
) -> Result<ProviderConfig, LoadConfigError> {
    let mut origins = BTreeMap::new();
    for key in entry.keys() {
        if let Some(layer) = origin_layer(layers, &path_of(&["model_providers", id, key])) {
            origins.insert(key.clone(), layer.source.clone());
        }
    }
    if text(entry, "wire_api").as_deref() == Some("chat") {
        let path = path_of(&["model_providers", id, "wire_api"]);
        let message = format!(
            "`wire_api = \"chat\"` is no longer supported; set `model_providers.{id}.wire_api = \"responses\"` (see https://github.com/openai/codex/discussions/7782)"
        );
        return Err(invalid_at(layers, &path, message));
    }
    Ok(ProviderConfig {
        id: id.to_string(),
        name: text(entry, "name"),
        base_url: text(entry, "base_url"),
        env_key: text(entry, "env_key"),
        env_key_instructions: text(entry, "env_key_instructions"),
        experimental_bearer_token: text(entry, "experimental_bearer_token"),
        query_params: string_map(entry, "query_params"),
        http_headers: string_map(entry, "http_headers"),
        env_http_headers: string_map(entry, "env_http_headers"),
        request_max_retries: number(entry, "request_max_retries").map(|n| n.min(MAX_RETRIES)),
        stream_max_retries: number(entry, "stream_max_retries").map(|n| n.min(MAX_RETRIES)),
        stream_idle_timeout_ms: number(entry, "stream_idle_timeout_ms"),
        requires_openai_auth: entry
            .get("requires_openai_auth")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        retry_base_delay_ms: number(entry, "retry_base_delay_ms"),
        retry_max_delay_ms: number(entry, "retry_max_delay_ms"),
        origins,
    })
}

/// The model settings of the validated `merged` table.
pub(crate) fn resolve_model_settings(
    merged: &Table,
    layers: &[ConfigLayer],
    warnings: &mut Vec<String>,
) -> Result<ModelSettings, LoadConfigError> {
    let mut providers = BTreeMap::new();
    if let Some(entries) = merged.get("model_providers").and_then(Value::as_table) {
        for (id, entry) in entries {
            let Some(entry) = entry.as_table() else {
                continue;
            };
            if BUILT_IN_MODEL_PROVIDERS.contains(&id.as_str()) {
                warnings.push(format!(
                    "`model_providers.{id}` is ignored: built-in providers cannot be redefined; add the entry under a new id and set `model_provider` to it"
                ));
                continue;
            }
            providers.insert(id.clone(), provider(layers, id, entry)?);
        }
    }
    let limits = merged.get("model_stream_limits").and_then(Value::as_table);
    let defaults = StreamLimits::default();
    let limit = |key: &str, default: u64| limits.and_then(|t| number(t, key)).unwrap_or(default);
    let enumerated = |key: &str| text(merged, key);
    Ok(ModelSettings {
        model: text(merged, "model"),
        model_provider: sourced(layers, merged, "model_provider"),
        providers,
        openai_base_url: sourced(layers, merged, "openai_base_url"),
        oss_provider: enumerated("oss_provider").and_then(|v| OssProvider::parse(&v)),
        reasoning_effort: enumerated("model_reasoning_effort")
            .and_then(|v| ReasoningEffort::parse(&v)),
        reasoning_summary: enumerated("model_reasoning_summary")
            .and_then(|v| ReasoningSummary::parse(&v)),
        verbosity: enumerated("model_verbosity").and_then(|v| Verbosity::parse(&v)),
        stream_limits: StreamLimits {
            max_response_bytes: limit("max_response_bytes", defaults.max_response_bytes),
            max_event_bytes: limit("max_event_bytes", defaults.max_event_bytes),
            max_output_items: limit("max_output_items", defaults.max_output_items),
        },
    })
}

#[cfg(test)]
#[path = "providers_tests.rs"]
mod tests;
