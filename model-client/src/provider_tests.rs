use std::collections::BTreeMap;

use super::*;

use codex_config::{LayerSource, ProviderConfig};

fn entry(id: &str) -> ProviderConfig {
    ProviderConfig {
        id: id.into(),
        name: None,
        base_url: Some("https://corp.example/v1".into()),
        env_key: None,
        env_key_instructions: None,
        experimental_bearer_token: None,
        query_params: BTreeMap::new(),
        http_headers: BTreeMap::new(),
        env_http_headers: BTreeMap::new(),
        request_max_retries: None,
        stream_max_retries: None,
        stream_idle_timeout_ms: None,
        requires_openai_auth: false,
        retry_base_delay_ms: None,
        retry_max_delay_ms: None,
        origins: BTreeMap::new(),
    }
}

fn settings(entry: ProviderConfig) -> ModelSettings {
    let mut settings = ModelSettings::default();
    settings.providers.insert(entry.id.clone(), entry);
    settings
}

#[test]
fn built_in_providers_and_their_environment() {
    let env = ProviderEnvironment::from_pairs([("CODEX_OSS_PORT", "9999")]);
    let ollama = resolve_provider(&ModelSettings::default(), Some("ollama"), &env).unwrap();
    assert_eq!(ollama.base_url(), "http://localhost:9999/v1");
    assert!(ollama.env_key().is_none() && !ollama.uses_openai_auth());
    let env = ProviderEnvironment::from_pairs([("CODEX_OSS_BASE_URL", "http://box:1/v1")]);
    let lmstudio = resolve_provider(&ModelSettings::default(), Some("lmstudio"), &env).unwrap();
    assert_eq!(lmstudio.responses_url(false), "http://box:1/v1/responses");
    let openai = resolve_provider(
        &ModelSettings::default(),
        None,
        &ProviderEnvironment::default(),
    )
    .unwrap();
    assert_eq!(
        openai.responses_url(false),
        "https://api.openai.com/v1/responses"
    );
    assert_eq!(
        openai.responses_url(true),
        "https://chatgpt.com/backend-api/codex/responses"
    );
    assert_eq!(
        (
            openai.request_max_retries,
            openai.stream_max_retries,
            openai.stream_idle_timeout
        ),
        (4, 5, Duration::from_millis(300_000))
    );
    let bad = ProviderEnvironment::from_pairs([("CODEX_OSS_PORT", "http")]);
    assert_eq!(
        resolve_provider(&ModelSettings::default(), Some("ollama"), &bad).unwrap_err(),
        ResolveProviderError::InvalidOssPort("http".into())
    );
}

#[test]
fn configured_entries_unknown_ids_and_bad_urls() {
    assert_eq!(
        resolve_provider(
            &ModelSettings::default(),
            Some("nope"),
            &ProviderEnvironment::default()
        )
        .unwrap_err()
        .to_string(),
        "Model provider `nope` not found; define `[model_providers.nope]` or pick one of `openai`, `ollama`, `lmstudio`"
    );
    let mut file = entry("corp");
    file.base_url = Some("file:///etc/passwd".into());
    assert_eq!(
        resolve_provider(
            &settings(file),
            Some("corp"),
            &ProviderEnvironment::default()
        )
        .unwrap_err()
        .to_string(),
        "`model_providers.corp.base_url` must be an http:// or https:// URL, not `file:///etc/passwd`"
    );
    let mut keyed = entry("corp");
    keyed.env_key = Some("CORP_KEY".into());
    let env = ProviderEnvironment::from_pairs([("CORP_KEY", "k")]);
    let provider = resolve_provider(&settings(keyed), Some("corp"), &env).unwrap();
    assert_eq!(provider.env_key(), Some("CORP_KEY"));
    assert_eq!(format!("{env:?}"), "{\"CORP_KEY\"}");
}

/// Any routing key from a project layer refuses a provider that sends credentials; without
/// credentials (a local server) it is harmless.
#[test]
fn project_layer_routing_keys_refuse_credentials() {
    let project = LayerSource::Project {
        dot_codex: "/w/.codex".into(),
    };
    for key in ROUTING_KEYS {
        let mut credentialed = entry("corp");
        credentialed.experimental_bearer_token = Some("t".into());
        credentialed
            .origins
            .insert((*key).to_string(), project.clone());
        let error = resolve_provider(
            &settings(credentialed),
            Some("corp"),
            &ProviderEnvironment::default(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            ResolveProviderError::ProjectLayerRedirect {
                key: format!("model_providers.corp.{key}"),
                layer: "project (/w/.codex/config.toml)".into()
            }
        );
    }
    let mut plain = entry("corp");
    plain.origins.insert("base_url".into(), project);
    assert!(
        resolve_provider(
            &settings(plain),
            Some("corp"),
            &ProviderEnvironment::default()
        )
        .is_ok()
    );
}

#[test]
fn the_endpoint_follows_the_kind_of_sign_in() {
    let openai = resolve_provider(
        &ModelSettings::default(),
        None,
        &ProviderEnvironment::default(),
    )
    .unwrap();
    let api_key = codex_login::CodexAuth::ApiKey {
        key: Secret::new("sk-test"),
        source: codex_login::CredentialSource::Store,
    };
    assert_eq!(
        openai.responses_url_for(None),
        "https://api.openai.com/v1/responses"
    );
    assert_eq!(
        openai.responses_url_for(Some(&api_key)),
        "https://api.openai.com/v1/responses"
    );
    let env = ProviderEnvironment::from_pairs([("CODEX_OSS_BASE_URL", "http://box:1/v1")]);
    let local = resolve_provider(&ModelSettings::default(), Some("ollama"), &env).unwrap();
    assert_eq!(
        local.responses_url_for(Some(&api_key)),
        "http://box:1/v1/responses"
    );
}
