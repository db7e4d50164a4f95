//! `ModelClient`: built once per session from the resolved configuration; every
//! [`ModelClient::stream`] call runs on its own worker thread.

use std::sync::Arc;
use std::time::Duration;

use codex_config::{Config, ModelSettings, StreamLimits};
use codex_login::{ApiKeyEnv, AuthManager};

use crate::error::{ModelError, ResolveProviderError};
use crate::provider::{ProviderEnvironment, ProviderSettings, resolve_provider};
use crate::request::{ModelFamily, Request, RequestDefaults, model_family, request_body};
use crate::stream::{CHANNEL_CAPACITY, Cancellation, ResponseStream};
use crate::user_agent::user_agent;
use crate::worker::Worker;

/// The model when neither `-m` nor `model` says otherwise (built-in `openai` provider).
pub const DEFAULT_MODEL: &str = "gpt-5.5";
/// The default `--oss` model for Ollama.
pub const DEFAULT_OLLAMA_MODEL: &str = "gpt-oss:20b";
/// The default `--oss` model for LM Studio.
pub const DEFAULT_LMSTUDIO_MODEL: &str = "openai/gpt-oss-20b";

/// Connecting (TCP + TLS) may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Per-session choices that are not configuration.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The session (thread) id: `session-id` / `thread-id` headers and `prompt_cache_key`.
    pub session_id: String,
    /// The `originator` header and `User-Agent` prefix (default: the sign-in settings'
    /// originator, `codex_cli_rs` unless `CODEX_INTERNAL_ORIGINATOR_OVERRIDE` says otherwise;
    /// `codex exec` passes `codex_exec`).
    pub originator: Option<String>,
    /// Whether `CODEX_API_KEY` counts (`codex exec`: yes).
    pub api_key_env: ApiKeyEnv,
    /// `-m`: wins over `model`.
    pub model: Option<String>,
    /// `--oss` / `--local-provider`: wins over `model_provider`.
    pub provider: Option<String>,
}

impl ClientOptions {
    pub fn new(session_id: impl Into<String>) -> ClientOptions {
        ClientOptions {
            session_id: session_id.into(),
            originator: None,
            api_key_env: ApiKeyEnv::Enabled,
            model: None,
            provider: None,
        }
    }
}

pub(crate) struct Inner {
    pub provider: ProviderSettings,
    pub family: ModelFamily,
    pub defaults: RequestDefaults,
    pub limits: StreamLimits,
    pub session_id: String,
    pub originator: String,
    pub user_agent: String,
    pub auth: Arc<AuthManager>,
    pub api_key_env: ApiKeyEnv,
    pub agent: ureq::Agent,
}

/// Talks to one provider for one session. Cheap to clone; usable from many threads.
#[derive(Clone)]
pub struct ModelClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ModelClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ModelClient")
            .field("provider", &self.inner.provider.id)
            .field("model", &self.inner.defaults.model)
            .finish_non_exhaustive()
    }
}

impl ModelClient {
    /// From the resolved configuration and the process environment. Fails, sending nothing,
    /// when the provider is unknown, its `env_key` is unset, or a project layer points it at a
    /// new host.
    pub fn new(
        config: &Config,
        auth: Arc<AuthManager>,
        options: ClientOptions,
    ) -> Result<ModelClient, ResolveProviderError> {
        ModelClient::from_settings(
            &config.model,
            ProviderEnvironment::from_process(),
            auth,
            options,
        )
    }

    /// [`ModelClient::new`] with an explicit environment snapshot.
    pub fn from_settings(
        settings: &ModelSettings,
        environment: ProviderEnvironment,
        auth: Arc<AuthManager>,
        options: ClientOptions,
    ) -> Result<ModelClient, ResolveProviderError> {
        let provider = resolve_provider(settings, options.provider.as_deref(), &environment)?;
        let model = options
            .model
            .clone()
            .or_else(|| settings.model.clone())
            .unwrap_or_else(|| {
                match provider.id.as_str() {
                    "ollama" => DEFAULT_OLLAMA_MODEL,
                    "lmstudio" => DEFAULT_LMSTUDIO_MODEL,
                    _ => DEFAULT_MODEL,
                }
                .to_string()
            });
        let family = model_family(&model);
        let defaults = RequestDefaults::new(&model, &family, settings);
        let originator = options
            .originator
            .clone()
            .unwrap_or_else(|| auth.settings().originator().to_string());
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(provider.stream_idle_timeout))
            .timeout_per_write(Some(provider.stream_idle_timeout))
            .build();
        Ok(ModelClient {
            inner: Arc::new(Inner {
                user_agent: user_agent(&originator, &environment),
                provider,
                family,
                defaults,
                limits: settings.stream_limits,
                session_id: options.session_id,
                originator,
                auth,
                api_key_env: options.api_key_env,
                agent: ureq::Agent::new_with_config(agent_config),
            }),
        })
    }

    pub fn provider(&self) -> &ProviderSettings {
        &self.inner.provider
    }

    pub fn model(&self) -> &str {
        &self.inner.defaults.model
    }

    pub fn model_family(&self) -> &ModelFamily {
        &self.inner.family
    }

    /// Send `request` and stream the response. Retries happen inside, reported as
    /// [`crate::ResponseEvent::Retrying`]; the stream ends with `Completed` or one error.
    pub fn stream(&self, request: &Request) -> Result<ResponseStream, ModelError> {
        request_body(&self.inner.defaults, request, &[], &self.inner.session_id).map_err(
            |error| ModelError::Internal(format!("the request cannot be encoded: {error}")),
        )?;
        let (sender, receiver) = std::sync::mpsc::sync_channel(CHANNEL_CAPACITY);
        let cancellation = Arc::new(Cancellation::default());
        let worker = Worker::new(
            self.inner.clone(),
            request.clone(),
            sender.clone(),
            cancellation.clone(),
        );
        std::thread::Builder::new()
            .name("codex-model-stream".into())
            .spawn(move || worker.run())
            .map_err(|error| {
                ModelError::Internal(format!("cannot start the stream thread: {error}"))
            })?;
        Ok(ResponseStream::new(receiver, cancellation, sender))
    }
}

// The agent shares one client across threads and cancels streams from a signal thread.
const _: () = {
    fn shared<T: Send + Sync>() {}
    fn movable<T: Send>() {}
    let _ = shared::<ModelClient>;
    let _ = shared::<crate::CancelHandle>;
    let _ = movable::<ResponseStream>;
};
