//! Local providers for `--oss` / `--local-provider`: probe the server, list its models, and for
//! Ollama pull a missing model with progress. The flags themselves belong to `codex exec`,
//! which calls [`ensure_oss_ready`] before the first request:
//!
//! ```text
//! provider = --local-provider, else oss_provider (no default: exec prints its error)
//! model    = -m, else default_oss_model(provider)
//! client   = ModelClient::from_settings(.., ClientOptions { provider: Some(provider.id()), model, .. })
//! ensure_oss_ready(provider, client.provider().base_url(), model, on_progress, on_warning)?
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use codex_config::OssProvider;
use serde_json::Value;

use crate::client::{DEFAULT_LMSTUDIO_MODEL, DEFAULT_OLLAMA_MODEL};
use crate::error::bounded_text;

/// Upstream text.
pub const NO_OLLAMA_SERVER: &str = "No running Ollama server detected. Start it with: `ollama serve` (after installing). Install instructions: https://github.com/ollama/ollama?tab=readme-ov-file#ollama";
pub const NO_LMSTUDIO_SERVER: &str = "LM Studio is not responding. Install from https://lmstudio.ai/download and run 'lms server start'.";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const LIST_TIMEOUT: Duration = Duration::from_secs(15);
/// A pull that sends nothing for this long has failed.
const PULL_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
const MAX_LIST_BYTES: u64 = 8 << 20;
const MAX_PULL_LINE_BYTES: u64 = 1 << 20;

/// The model used when `-m` is not given.
pub fn default_oss_model(provider: OssProvider) -> &'static str {
    match provider {
        OssProvider::Ollama => DEFAULT_OLLAMA_MODEL,
        OssProvider::LmStudio => DEFAULT_LMSTUDIO_MODEL,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OssError {
    #[error("{}", match .0 { OssProvider::Ollama => NO_OLLAMA_SERVER, OssProvider::LmStudio => NO_LMSTUDIO_SERVER })]
    NotRunning(OssProvider),
    #[error("failed to list the models of `{url}`: {reason}")]
    List { url: String, reason: String },
    /// Upstream text.
    #[error("Pull failed: {0}")]
    PullFailed(String),
    /// Upstream text.
    #[error("Pull stream ended unexpectedly without success.")]
    PullEndedEarly,
    #[error(
        "model `{0}` is not available in LM Studio; download it there (or with `lms get {0}`) and try again"
    )]
    LmStudioModelMissing(String),
}

/// One line of Ollama's pull stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullEvent {
    Status(String),
    ChunkProgress {
        digest: String,
        total: Option<u64>,
        completed: Option<u64>,
    },
    Success,
}

/// A client of one local server, from its OpenAI-compatible base URL (`…/v1`).
#[derive(Debug, Clone)]
pub struct LocalProviderClient {
    provider: OssProvider,
    base_url: String,
    agent: ureq::Agent,
}

impl LocalProviderClient {
    pub fn new(provider: OssProvider, base_url: &str) -> LocalProviderClient {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(PULL_IDLE_TIMEOUT))
            .proxy(None)
            .build();
        LocalProviderClient {
            provider,
            base_url: base_url.trim_end_matches('/').to_string(),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// The server root for Ollama's native API (`…/v1` removed).
    fn root(&self) -> &str {
        self.base_url.strip_suffix("/v1").unwrap_or(&self.base_url)
    }

    fn list_url(&self) -> String {
        match self.provider {
            OssProvider::Ollama => format!("{}/api/tags", self.root()),
            OssProvider::LmStudio => format!("{}/models", self.base_url),
        }
    }

    fn get(&self, url: &str) -> Result<(u16, Vec<u8>), ureq::Error> {
        let mut response = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(LIST_TIMEOUT))
            .build()
            .call()?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_LIST_BYTES)
            .read_to_end(&mut body)?;
        Ok((status, body))
    }

    /// Whether the server answers (`/api/tags` for Ollama, `/v1/models` for LM Studio).
    pub fn probe(&self) -> Result<(), OssError> {
        match self.get(&self.list_url()) {
            Ok((status, _)) if (200..300).contains(&status) => Ok(()),
            _ => Err(OssError::NotRunning(self.provider)),
        }
    }

    /// The model names the server has.
    pub fn list_models(&self) -> Result<Vec<String>, OssError> {
        let url = self.list_url();
        let list_error = |reason: String| OssError::List {
            url: url.clone(),
            reason,
        };
        let (status, body) = self
            .get(&url)
            .map_err(|error| list_error(error.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(list_error(format!("status {status}")));
        }
        let json: Value = serde_json::from_slice(&body)
            .map_err(|_| list_error("the answer is not JSON".into()))?;
        let (array, field) = match self.provider {
            OssProvider::Ollama => ("models", "name"),
            OssProvider::LmStudio => ("data", "id"),
        };
        Ok(json
            .get(array)
            .and_then(Value::as_array)
            .map(|models| {
                models
                    .iter()
                    .filter_map(|model| model.get(field).and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Ollama only: `POST /api/pull {"model","stream":true}` and read the NDJSON progress until
    /// `status == "success"`.
    pub fn pull(&self, model: &str, on_event: &mut dyn FnMut(&PullEvent)) -> Result<(), OssError> {
        let url = format!("{}/api/pull", self.root());
        let body = serde_json::json!({"model": model, "stream": true}).to_string();
        let response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .map_err(|error| OssError::PullFailed(bounded_text(&error.to_string(), 500, None)))?;
        let status = response.status().as_u16();
        let mut reader = BufReader::new(response.into_body().into_reader());
        if !(200..300).contains(&status) {
            let mut text = String::new();
            let _ = reader.take(MAX_PULL_LINE_BYTES).read_to_string(&mut text);
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|json| {
                    json.get("error")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or(text);
            return Err(OssError::PullFailed(bounded_text(&message, 500, None)));
        }
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = (&mut reader)
                .take(MAX_PULL_LINE_BYTES)
                .read_until(b'\n', &mut line)
                .map_err(|error| {
                    OssError::PullFailed(bounded_text(&error.to_string(), 500, None))
                })?;
            if read == 0 {
                return Err(OssError::PullEndedEarly);
            }
            let Ok(json) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            if let Some(error) = json.get("error").and_then(Value::as_str) {
                return Err(OssError::PullFailed(bounded_text(error, 500, None)));
            }
            let status = json
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let event = if status == "success" {
                PullEvent::Success
            } else if let Some(digest) = json.get("digest").and_then(Value::as_str) {
                PullEvent::ChunkProgress {
                    digest: digest.to_string(),
                    total: json.get("total").and_then(Value::as_u64),
                    completed: json.get("completed").and_then(Value::as_u64),
                }
            } else {
                PullEvent::Status(bounded_text(status, 200, None))
            };
            on_event(&event);
            if event == PullEvent::Success {
                return Ok(());
            }
        }
    }
}

/// Probe the server, list its models, and pull `model` when Ollama lacks it. A failure to list
/// is only a warning (passed to `on_warning`).
pub fn ensure_oss_ready(
    provider: OssProvider,
    base_url: &str,
    model: &str,
    on_event: &mut dyn FnMut(&PullEvent),
    on_warning: &mut dyn FnMut(String),
) -> Result<(), OssError> {
    let client = LocalProviderClient::new(provider, base_url);
    client.probe()?;
    let models = match client.list_models() {
        Ok(models) => models,
        Err(error) => {
            on_warning(format!(
                "{error}; continuing without checking for `{model}`"
            ));
            return Ok(());
        }
    };
    if models.iter().any(|name| name == model) {
        return Ok(());
    }
    match provider {
        OssProvider::Ollama => client.pull(model, on_event),
        OssProvider::LmStudio => Err(OssError::LmStudioModelMissing(model.to_string())),
    }
}

/// Turns pull events into progress text for stderr: status lines (the noisy manifest line
/// left out), the total size once, then one `\r`-refreshed line with bytes, percent and speed.
#[derive(Debug)]
pub struct PullProgressReporter {
    totals: BTreeMap<String, u64>,
    completed: BTreeMap<String, u64>,
    announced_total: u64,
    started: Instant,
}

impl Default for PullProgressReporter {
    fn default() -> Self {
        PullProgressReporter {
            totals: BTreeMap::new(),
            completed: BTreeMap::new(),
            announced_total: 0,
            started: Instant::now(),
        }
    }
}

impl PullProgressReporter {
    /// The text to write for `event` (may be empty).
    pub fn update(&mut self, event: &PullEvent) -> String {
        const GB: f64 = 1_000_000_000.0;
        match event {
            PullEvent::Status(status) if status == "pulling manifest" => String::new(),
            PullEvent::Status(status) => format!("{status}\n"),
            PullEvent::ChunkProgress {
                digest,
                total,
                completed,
            } => {
                if let Some(total) = total {
                    self.totals.insert(digest.clone(), *total);
                }
                if let Some(completed) = completed {
                    self.completed.insert(digest.clone(), *completed);
                }
                let total: u64 = self.totals.values().sum();
                let done: u64 = self.completed.values().sum();
                let mut out = String::new();
                if total > self.announced_total {
                    self.announced_total = total;
                    out.push_str(&format!(
                        "Downloading model: total {:.2} GB\n",
                        total as f64 / GB
                    ));
                }
                if total > 0 {
                    let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
                    out.push_str(&format!(
                        "\r{:.2}/{:.2} GB ({:.1}%) {:.1} MB/s",
                        done as f64 / GB,
                        total as f64 / GB,
                        done as f64 * 100.0 / total as f64,
                        done as f64 / 1_000_000.0 / elapsed
                    ));
                }
                out
            }
            PullEvent::Success => "\n".to_string(),
        }
    }
}
