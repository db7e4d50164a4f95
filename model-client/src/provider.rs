//! Built-in and configured providers resolved into what a request needs: URL, credential
//! source, headers and retry settings. The one place that reads the model client's
//! environment variables ([`ProviderEnvironment`]).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use codex_config::{LayerSource, ModelSettings, ProviderConfig, Sourced};
use codex_login::Secret;

use crate::error::ResolveProviderError;
use crate::retry::RetryDelays;

/// Every environment variable the model client reads (besides a provider's `env_key` and
/// `env_http_headers`, which name their own).
pub mod env_names {
    /// Redirects the built-in `openai` provider (`openai_base_url` wins).
    pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
    /// Base URL of the `ollama` and `lmstudio` providers.
    pub const CODEX_OSS_BASE_URL: &str = "CODEX_OSS_BASE_URL";
    /// Port of `http://localhost:<port>/v1` for the local providers.
    pub const CODEX_OSS_PORT: &str = "CODEX_OSS_PORT";
    /// `OpenAI-Organization` for the built-in `openai` provider.
    pub const OPENAI_ORGANIZATION: &str = "OPENAI_ORGANIZATION";
    /// `OpenAI-Project` for the built-in `openai` provider.
    pub const OPENAI_PROJECT: &str = "OPENAI_PROJECT";
    /// The terminal named in the `User-Agent`.
    pub const TERM_PROGRAM: &str = "TERM_PROGRAM";
    pub const TERM_PROGRAM_VERSION: &str = "TERM_PROGRAM_VERSION";
    pub const TERM: &str = "TERM";
}

/// API-key base URL of the built-in `openai` provider.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Base URL of the built-in `openai` provider with ChatGPT sign-in.
pub const CHATGPT_CODEX_BASE_URL: &str = "https://chatgpt.com/backend-api/codex";
pub const DEFAULT_OLLAMA_PORT: u16 = 11434;
pub const DEFAULT_LMSTUDIO_PORT: u16 = 1234;

const DEFAULT_REQUEST_MAX_RETRIES: u64 = 4;
const DEFAULT_STREAM_MAX_RETRIES: u64 = 5;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 300_000;

/// Keys that decide where credentials go or which credentials are sent.
const ROUTING_KEYS: &[&str] = &[
    "base_url",
    "query_params",
    "env_key",
    "env_http_headers",
    "http_headers",
    "experimental_bearer_token",
    "requires_openai_auth",
];

/// A snapshot of the process environment. `Debug` lists names only.
#[derive(Clone, Default)]
pub struct ProviderEnvironment {
    values: BTreeMap<String, String>,
}

impl fmt::Debug for ProviderEnvironment {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_set().entries(self.values.keys()).finish()
    }
}

impl ProviderEnvironment {
    /// Every variable of this process whose name and value are UTF-8.
    pub fn from_process() -> ProviderEnvironment {
        ProviderEnvironment {
            values: std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        }
    }

    /// Exactly `pairs` (tests and embedders).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> ProviderEnvironment {
        ProviderEnvironment {
            values: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// The trimmed value; blank counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        let value = self.values.get(name)?.trim();
        (!value.is_empty()).then_some(value)
    }
}

/// Where the base URL comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BaseUrl {
    Fixed(String),
    /// The built-in `openai` provider without a redirect: API key → api.openai.com, ChatGPT
    /// sign-in → chatgpt.com.
    OpenAiByAuth,
}

/// Where the bearer comes from.
#[derive(Debug, Clone)]
pub(crate) enum CredentialSource {
    None,
    /// The provider's `env_key`, read when the client was built.
    EnvKey {
        var: String,
        value: Secret,
    },
    /// `CODEX_API_KEY` / `CODEX_ACCESS_TOKEN` / stored credentials through the `AuthManager`,
    /// then `experimental_bearer_token`.
    OpenAi {
        fallback: Option<Secret>,
    },
    /// `experimental_bearer_token`.
    Literal(Secret),
}

/// A resolved provider.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub id: String,
    pub name: String,
    pub(crate) base_url: BaseUrl,
    pub(crate) credentials: CredentialSource,
    pub(crate) query: String,
    /// Extra headers; values may hold secrets (`env_http_headers`).
    pub(crate) headers: Vec<(String, Secret)>,
    pub request_max_retries: u64,
    pub stream_max_retries: u64,
    pub stream_idle_timeout: Duration,
    pub retry_delays: RetryDelays,
}

impl ProviderSettings {
    /// The `/responses` URL for credentials of the given kind.
    pub(crate) fn responses_url(&self, chatgpt: bool) -> String {
        let base = match &self.base_url {
            BaseUrl::Fixed(url) => url.as_str(),
            BaseUrl::OpenAiByAuth if chatgpt => CHATGPT_CODEX_BASE_URL,
            BaseUrl::OpenAiByAuth => DEFAULT_OPENAI_BASE_URL,
        };
        let mut url = format!("{}/responses", base.trim_end_matches('/'));
        if !self.query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&self.query);
        }
        url
    }

    /// The `/responses` URL a request signed in with `auth` (the resolved sign-in, if any) goes
    /// to: what `codex doctor` reports.
    pub fn responses_url_for(&self, auth: Option<&codex_login::CodexAuth>) -> String {
        let chatgpt =
            self.uses_openai_auth() && auth.is_some_and(crate::auth::selects_chatgpt_endpoint);
        self.responses_url(chatgpt)
    }

    /// The base URL as configured (the API-key one for the default `openai` provider).
    pub fn base_url(&self) -> &str {
        match &self.base_url {
            BaseUrl::Fixed(url) => url,
            BaseUrl::OpenAiByAuth => DEFAULT_OPENAI_BASE_URL,
        }
    }

    /// The `env_key` variable the bearer is read from (the agent keeps it out of tool
    /// commands' environment).
    pub fn env_key(&self) -> Option<&str> {
        match &self.credentials {
            CredentialSource::EnvKey { var, .. } => Some(var),
            _ => None,
        }
    }

    /// Whether requests carry the signed-in OpenAI credentials.
    pub fn uses_openai_auth(&self) -> bool {
        matches!(self.credentials, CredentialSource::OpenAi { .. })
    }
}

fn check_url(key: &str, url: &str) -> Result<String, ResolveProviderError> {
    let lower = url.to_ascii_lowercase();
    if (lower.starts_with("http://") || lower.starts_with("https://")) && url.len() > 8 {
        Ok(url.to_string())
    } else {
        Err(ResolveProviderError::InvalidBaseUrl {
            key: key.to_string(),
            url: url.to_string(),
        })
    }
}

fn is_project(layer: &LayerSource) -> bool {
    matches!(layer, LayerSource::Project { .. })
}

fn project_redirect(key: String, layer: &LayerSource) -> ResolveProviderError {
    ResolveProviderError::ProjectLayerRedirect {
        key,
        layer: layer.display_name(),
    }
}

/// Header names are RFC 9110 tokens; values are visible characters, spaces and tabs.
pub(crate) fn valid_header(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && value.chars().all(|c| c == '\t' || !c.is_control())
}

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const QUERY_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_ESCAPED).to_string()
}

fn defaults(
    id: &str,
    name: &str,
    base_url: BaseUrl,
    credentials: CredentialSource,
) -> ProviderSettings {
    ProviderSettings {
        id: id.to_string(),
        name: name.to_string(),
        base_url,
        credentials,
        query: String::new(),
        headers: Vec::new(),
        request_max_retries: DEFAULT_REQUEST_MAX_RETRIES,
        stream_max_retries: DEFAULT_STREAM_MAX_RETRIES,
        stream_idle_timeout: Duration::from_millis(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
        retry_delays: RetryDelays::default(),
    }
}

fn openai(
    openai_base_url: Option<&Sourced<String>>,
    env: &ProviderEnvironment,
) -> Result<ProviderSettings, ResolveProviderError> {
    let base_url = match (openai_base_url, env.get(env_names::OPENAI_BASE_URL)) {
        (Some(configured), _) => {
            if is_project(&configured.layer) {
                return Err(project_redirect(
                    "openai_base_url".into(),
                    &configured.layer,
                ));
            }
            BaseUrl::Fixed(check_url("openai_base_url", &configured.value)?)
        }
        (None, Some(from_env)) => BaseUrl::Fixed(check_url(env_names::OPENAI_BASE_URL, from_env)?),
        (None, None) => BaseUrl::OpenAiByAuth,
    };
    let mut provider = defaults(
        "openai",
        "OpenAI",
        base_url,
        CredentialSource::OpenAi { fallback: None },
    );
    for (header, var) in [
        ("OpenAI-Organization", env_names::OPENAI_ORGANIZATION),
        ("OpenAI-Project", env_names::OPENAI_PROJECT),
    ] {
        if let Some(value) = env.get(var).filter(|value| valid_header(header, value)) {
            provider
                .headers
                .push((header.to_string(), Secret::new(value)));
        }
    }
    Ok(provider)
}

fn local(
    id: &str,
    name: &str,
    port: u16,
    env: &ProviderEnvironment,
) -> Result<ProviderSettings, ResolveProviderError> {
    let base_url = match env.get(env_names::CODEX_OSS_BASE_URL) {
        Some(url) => check_url(env_names::CODEX_OSS_BASE_URL, url)?,
        None => {
            let port = match env.get(env_names::CODEX_OSS_PORT) {
                Some(text) => text
                    .parse::<u16>()
                    .map_err(|_| ResolveProviderError::InvalidOssPort(text.to_string()))?,
                None => port,
            };
            format!("http://localhost:{port}/v1")
        }
    };
    Ok(defaults(
        id,
        name,
        BaseUrl::Fixed(base_url),
        CredentialSource::None,
    ))
}

fn configured(
    entry: &ProviderConfig,
    env: &ProviderEnvironment,
) -> Result<ProviderSettings, ResolveProviderError> {
    let id = &entry.id;
    let literal = entry.experimental_bearer_token.clone().map(Secret::new);
    let credentials = if let Some(var) = &entry.env_key {
        match env.get(var) {
            Some(value) => CredentialSource::EnvKey {
                var: var.clone(),
                value: Secret::new(value),
            },
            None => {
                return Err(ResolveProviderError::MissingEnvKey {
                    var: var.clone(),
                    instructions: entry.env_key_instructions.clone(),
                });
            }
        }
    } else if entry.requires_openai_auth {
        CredentialSource::OpenAi { fallback: literal }
    } else if let Some(token) = literal {
        CredentialSource::Literal(token)
    } else {
        CredentialSource::None
    };
    let sends_credentials =
        !matches!(credentials, CredentialSource::None) || !entry.env_http_headers.is_empty();
    if sends_credentials
        && let Some((key, layer)) = ROUTING_KEYS.iter().find_map(|key| {
            Some((
                *key,
                entry.origins.get(*key).filter(|layer| is_project(layer))?,
            ))
        })
    {
        return Err(project_redirect(
            format!("model_providers.{id}.{key}"),
            layer,
        ));
    }
    let base_url = match &entry.base_url {
        Some(url) => check_url(&format!("model_providers.{id}.base_url"), url)?,
        None => DEFAULT_OPENAI_BASE_URL.to_string(),
    };
    let mut provider = defaults(
        id,
        entry.name.as_deref().unwrap_or(id),
        BaseUrl::Fixed(base_url),
        credentials,
    );
    provider.query = entry
        .query_params
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    for (name, value) in &entry.http_headers {
        if valid_header(name, value) {
            provider
                .headers
                .push((name.clone(), Secret::new(value.clone())));
        }
    }
    for (name, var) in &entry.env_http_headers {
        if let Some(value) = env.get(var).filter(|value| valid_header(name, value)) {
            provider.headers.push((name.clone(), Secret::new(value)));
        }
    }
    if let Some(retries) = entry.request_max_retries {
        provider.request_max_retries = retries;
    }
    if let Some(retries) = entry.stream_max_retries {
        provider.stream_max_retries = retries;
    }
    if let Some(timeout) = entry.stream_idle_timeout_ms {
        provider.stream_idle_timeout = Duration::from_millis(timeout.max(1));
    }
    if let Some(base) = entry.retry_base_delay_ms {
        provider.retry_delays.base = Duration::from_millis(base);
    }
    if let Some(max) = entry.retry_max_delay_ms {
        provider.retry_delays.max = Duration::from_millis(max);
    }
    Ok(provider)
}

/// Resolve provider `id` (`model_provider` when `None`, else `openai`).
pub fn resolve_provider(
    settings: &ModelSettings,
    id: Option<&str>,
    env: &ProviderEnvironment,
) -> Result<ProviderSettings, ResolveProviderError> {
    let id = id
        .or(settings
            .model_provider
            .as_ref()
            .map(|sourced| sourced.value.as_str()))
        .unwrap_or("openai");
    match id {
        "openai" => openai(settings.openai_base_url.as_ref(), env),
        "ollama" => local(id, "Ollama", DEFAULT_OLLAMA_PORT, env),
        "lmstudio" => local(id, "LM Studio", DEFAULT_LMSTUDIO_PORT, env),
        _ => match settings.providers.get(id) {
            Some(entry) => configured(entry, env),
            None => Err(ResolveProviderError::UnknownProvider(id.to_string())),
        },
    }
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
