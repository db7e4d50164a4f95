//! Shared setup: a mock provider pointed at a scripted server, sign-in state in a temp
//! CODEX_HOME, and helpers to drain a stream.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use codex_config::{LayerSource, ModelSettings, ProviderConfig, StreamLimits};
use codex_login::{AuthEnvironment, AuthManager, AuthSettings};
use codex_model_client::{
    ClientOptions, ModelClient, ModelError, ProviderEnvironment, Request, ResponseEvent,
    ResponseItem, RetryNotice,
};
use codex_test_support::ScriptedServer;

pub const SESSION: &str = "0199a213-81c0-7800-8aa1-bbab2a035a53";

/// `[model_providers.mock]` with `env_key = "MOCK_API_KEY"` at `<server>/v1`, both retry budgets
/// as given, tiny retry delays.
pub fn mock_provider(
    server: &ScriptedServer,
    request_retries: u64,
    stream_retries: u64,
) -> ProviderConfig {
    let mut origins = BTreeMap::new();
    for key in ["base_url", "env_key"] {
        origins.insert(key.to_string(), LayerSource::SessionFlags);
    }
    ProviderConfig {
        id: "mock".into(),
        name: Some("mock".into()),
        base_url: Some(format!("{}/v1", server.url())),
        env_key: Some("MOCK_API_KEY".into()),
        env_key_instructions: None,
        experimental_bearer_token: None,
        query_params: BTreeMap::new(),
        http_headers: BTreeMap::new(),
        env_http_headers: BTreeMap::new(),
        request_max_retries: Some(request_retries),
        stream_max_retries: Some(stream_retries),
        stream_idle_timeout_ms: Some(10_000),
        requires_openai_auth: false,
        retry_base_delay_ms: Some(1),
        retry_max_delay_ms: Some(40),
        origins,
    }
}

pub fn settings_with(provider: ProviderConfig) -> ModelSettings {
    let mut settings = ModelSettings {
        model: Some("mock-model".into()),
        model_provider: Some(codex_config::Sourced {
            value: provider.id.clone(),
            layer: LayerSource::SessionFlags,
        }),
        stream_limits: StreamLimits::default(),
        ..ModelSettings::default()
    };
    settings.providers.insert(provider.id.clone(), provider);
    settings
}

pub fn manager(home: &Path, environment: AuthEnvironment) -> Arc<AuthManager> {
    Arc::new(AuthManager::new(AuthSettings::new(
        home.to_path_buf(),
        environment,
    )))
}

pub fn client(settings: &ModelSettings, env: &[(&str, &str)], home: &Path) -> ModelClient {
    try_client(settings, env, home, AuthEnvironment::default()).unwrap()
}

pub fn try_client(
    settings: &ModelSettings,
    env: &[(&str, &str)],
    home: &Path,
    auth_environment: AuthEnvironment,
) -> Result<ModelClient, codex_model_client::ResolveProviderError> {
    let mut options = ClientOptions::new(SESSION);
    options.originator = Some("codex_exec".into());
    ModelClient::from_settings(
        settings,
        ProviderEnvironment::from_pairs(env.iter().copied()),
        manager(home, auth_environment),
        options,
    )
}

pub const KEY_ENV: &[(&str, &str)] = &[("MOCK_API_KEY", "sk-mock-123456")];

pub fn prompt(text: &str) -> Request {
    Request {
        input: vec![ResponseItem::text_message("user", text)],
        ..Request::default()
    }
}

/// Every event until the end, and the error that ended the stream (if any).
pub fn drain(client: &ModelClient, request: &Request) -> (Vec<ResponseEvent>, Option<ModelError>) {
    let mut events = Vec::new();
    for event in client.stream(request).unwrap() {
        match event {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

pub fn retries(events: &[ResponseEvent]) -> Vec<RetryNotice> {
    events
        .iter()
        .filter_map(|event| match event {
            ResponseEvent::Retrying(notice) => Some(notice.clone()),
            _ => None,
        })
        .collect()
}

pub fn items(events: &[ResponseEvent]) -> Vec<ResponseItem> {
    events
        .iter()
        .filter_map(|event| match event {
            ResponseEvent::OutputItemDone(item) => Some(item.clone()),
            _ => None,
        })
        .collect()
}

/// An unsigned JWT with `claims`.
pub fn jwt(claims: serde_json::Value) -> String {
    let encode = |value: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    format!(
        "{}.{}.sig",
        encode(&serde_json::json!({"alg": "none"})),
        encode(&claims)
    )
}

/// A ChatGPT access token valid for a day.
pub fn access_token(marker: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    jwt(serde_json::json!({"exp": exp, "marker": marker}))
}

/// Write `auth.json` with ChatGPT tokens for account `acc-1`.
pub fn write_chatgpt_auth(home: &Path, access: &str) {
    let id_token = jwt(serde_json::json!({
        "email": "user@example.com",
        "https://api.openai.com/auth": {"chatgpt_account_id": "acc-1", "chatgpt_plan_type": "plus"}
    }));
    let document = serde_json::json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {"id_token": id_token, "access_token": access, "refresh_token": "rt-1", "account_id": "acc-1"},
        "last_refresh": "2026-01-01T00:00:00Z",
    });
    std::fs::write(home.join("auth.json"), document.to_string()).unwrap();
}

pub fn short() -> Duration {
    Duration::from_millis(200)
}
