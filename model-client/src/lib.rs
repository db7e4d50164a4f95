//! The model client: the OpenAI Responses API over streaming HTTP (blocking I/O, one worker
//! thread per request), providers and their credentials, retries, stream limits, and the local
//! (`--oss`) providers.
//!
//! ```text
//! let client = ModelClient::new(&config, auth_manager, ClientOptions::new(session_id))?;
//! let stream = client.stream(&Request { input: history, tools, ..Request::default() })?;
//! let cancel = stream.cancel_handle();          // Ctrl-C: cancel.cancel() from any thread
//! for event in stream { match event? { ResponseEvent::OutputItemDone(item) => …, … } }
//! ```
//!
//! # Security properties
//!
//! - **Credentials follow only hosts the user chose**: a provider whose URL or credential keys
//!   come from a project layer (`.codex/config.toml`) is refused when it would send any
//!   credential ([`ResolveProviderError::ProjectLayerRedirect`]); the user's OpenAI credentials
//!   go only to providers with `requires_openai_auth` (the built-in `openai` one). Redirects are
//!   never followed.
//! - **Nothing retries without bound**: see the budgets in the worker documentation; connection
//!   refused and DNS failures use the request budget and end with an error naming the URL.
//! - **Bounded memory**: `[model_stream_limits]` caps the bytes of a response, of one SSE
//!   record, and the number of output items; error bodies are read up to 64 KiB and kept up to
//!   2000 characters with control characters replaced and the bearer redacted.
//! - **Tool calls only from completed responses**: a call (and every item after it) is held
//!   back until `response.completed`, so a cut or failed attempt never hands the agent a call.
//! - Secrets are [`codex_login::Secret`]s: no `Debug`, never in errors.

mod auth;
mod client;
mod error;
mod events;
mod oss;
mod provider;
mod rate_limits;
mod request;
mod retry;
mod sse;
mod status;
mod stream;
mod user_agent;
mod wire;
mod worker;

pub use client::{
    ClientOptions, DEFAULT_LMSTUDIO_MODEL, DEFAULT_MODEL, DEFAULT_OLLAMA_MODEL, ModelClient,
};
pub use error::{ModelError, ResolveProviderError, RetryCause, StreamLimit};
pub use events::{ResponseEvent, RetryNotice, RetryPhase};
pub use oss::{
    LocalProviderClient, NO_LMSTUDIO_SERVER, NO_OLLAMA_SERVER, OssError, PullEvent,
    PullProgressReporter, default_oss_model, ensure_oss_ready,
};
pub use provider::{
    CHATGPT_CODEX_BASE_URL, DEFAULT_LMSTUDIO_PORT, DEFAULT_OLLAMA_PORT, DEFAULT_OPENAI_BASE_URL,
    ProviderEnvironment, ProviderSettings, env_names, resolve_provider,
};
pub use rate_limits::{RateLimitSnapshot, RateLimitWindow};
pub use request::{ApplyPatchToolType, ModelFamily, Request, model_family};
pub use retry::RetryDelays;
pub use sse::{RecordTooLarge, SseParser, SseRecord};
pub use stream::{CancelHandle, ResponseStream};
pub use wire::{ContentItem, ReasoningPart, ResponseItem, TokenUsage, ToolSpec};
