//! Credentials per auth kind, the 401 → refresh → retry path, and refusals that send nothing.

use codex_config::{LayerSource, ModelSettings, Sourced};
use codex_login::{AuthEnvironment, Secret};
use codex_model_client::{ModelError, ResolveProviderError};
use codex_test_support::{Reply, Script, ScriptedServer, sse};
use serde_json::json;

use super::harness::*;

fn answering() -> ScriptedServer {
    ScriptedServer::start(Script::new().otherwise(Reply::sse(sse::answer("r", "ok"))))
}

/// The built-in `openai` provider redirected by `openai_base_url` (a user-level setting).
fn openai_at(server: &ScriptedServer) -> ModelSettings {
    ModelSettings {
        model: Some("mock-model".into()),
        openai_base_url: Some(Sourced {
            value: format!("{}/v1", server.url()),
            layer: LayerSource::SessionFlags,
        }),
        ..ModelSettings::default()
    }
}

#[test]
fn missing_env_key_sends_nothing() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    let mut provider = mock_provider(&server, 3, 3);
    provider.env_key_instructions = Some("Create one at https://example.test/keys.".into());
    let error = try_client(
        &settings_with(provider),
        &[("MOCK_API_KEY", "   ")],
        home.path(),
        AuthEnvironment::default(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Missing environment variable: `MOCK_API_KEY`. Create one at https://example.test/keys."
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn stored_api_key_goes_to_the_redirected_openai_provider_with_org_headers() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-stored-key-1"}"#,
    )
    .unwrap();
    let client = client(
        &openai_at(&server),
        &[
            ("OPENAI_ORGANIZATION", "org-1"),
            ("OPENAI_PROJECT", "proj-1"),
        ],
        home.path(),
    );
    assert!(client.provider().uses_openai_auth());
    let (_, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-stored-key-1"));
    assert_eq!(sent.header("openai-organization"), Some("org-1"));
    assert_eq!(sent.header("openai-project"), Some("proj-1"));
    assert_eq!(sent.header("chatgpt-account-id"), None);
}

#[test]
fn codex_api_key_wins_and_openai_base_url_env_redirects() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    let settings = ModelSettings {
        model: Some("mock-model".into()),
        ..ModelSettings::default()
    };
    let base = format!("{}/v1", server.url());
    let environment = AuthEnvironment {
        codex_api_key: Some(Secret::new("sk-from-codex-api-key")),
        ..AuthEnvironment::default()
    };
    let client = try_client(
        &settings,
        &[("OPENAI_BASE_URL", &base)],
        home.path(),
        environment,
    )
    .unwrap();
    let (_, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer sk-from-codex-api-key")
    );
}

#[test]
fn chatgpt_tokens_send_the_account_id() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    let token = access_token("first");
    write_chatgpt_auth(home.path(), &token);
    let client = client(&openai_at(&server), &[], home.path());
    let (_, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    let sent = &server.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(sent.header("chatgpt-account-id"), Some("acc-1"));
}

#[test]
fn experimental_bearer_token_and_no_openai_credentials_for_custom_providers() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-stored-never-sent"}"#,
    )
    .unwrap();
    let mut provider = mock_provider(&server, 0, 0);
    provider.env_key = None;
    let client_without = client(&settings_with(provider.clone()), &[], home.path());
    let (_, error) = drain(&client_without, &prompt("hi"));
    assert_eq!(error, None);
    provider.experimental_bearer_token = Some("literal-bearer".into());
    let client_with = client(&settings_with(provider), &[], home.path());
    let (_, error) = drain(&client_with, &prompt("hi"));
    assert_eq!(error, None);
    let requests = server.requests();
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer literal-bearer")
    );
}

#[test]
fn not_signed_in_is_a_clear_error() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    let client = client(&openai_at(&server), &[], home.path());
    let (_, error) = drain(&client, &prompt("hi"));
    assert_eq!(
        error.unwrap().to_string(),
        "not signed in: run `codex login`, or set `CODEX_API_KEY` for `codex exec`, to use provider `openai`"
    );
    assert_eq!(server.request_count(), 0);
}

fn refresh_server(second_responses_reply: Reply) -> (ScriptedServer, String) {
    let new_token = access_token("refreshed");
    let server = ScriptedServer::start(
        Script::new()
            .route(
                "POST",
                "/oauth/token",
                Reply::json(
                    200,
                    &json!({"access_token": new_token, "refresh_token": "rt-2"}),
                ),
            )
            .at(
                0,
                Reply::json(401, &json!({"error": {"message": "token expired"}})),
            )
            .otherwise(second_responses_reply),
    );
    (server, new_token)
}

/// ChatGPT tokens in `home`, refreshed at `<server>/oauth/token`.
fn signed_in_with_refresh(
    server: &ScriptedServer,
    home: &std::path::Path,
) -> codex_model_client::ModelClient {
    write_chatgpt_auth(home, &access_token("old"));
    let environment = AuthEnvironment {
        refresh_token_url_override: Some(format!("{}/oauth/token", server.url())),
        ..AuthEnvironment::default()
    };
    try_client(&openai_at(server), &[], home, environment).unwrap()
}

#[test]
fn unauthorized_refreshes_once_and_retries() {
    let (server, new_token) = refresh_server(Reply::sse(sse::answer("r", "ok")));
    let home = tempfile::tempdir().unwrap();
    let client = signed_in_with_refresh(&server, home.path());
    let (events, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    assert!(
        retries(&events).is_empty(),
        "a refresh is not a budgeted retry"
    );
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/responses", "/oauth/token", "/v1/responses"]);
    let refresh = &server.requests_to("/oauth/token")[0];
    assert_eq!(refresh.json()["refresh_token"], "rt-1");
    let retried = &server.requests_to("/v1/responses")[1];
    assert_eq!(
        retried.header("authorization"),
        Some(format!("Bearer {new_token}").as_str())
    );
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap())
            .unwrap();
    assert_eq!(stored["tokens"]["refresh_token"], "rt-2");
}

#[test]
fn second_unauthorized_is_a_sign_in_error() {
    let (server, _) = refresh_server(Reply::json(
        401,
        &json!({"error": {"message": "still bad"}}),
    ));
    let home = tempfile::tempdir().unwrap();
    let client = signed_in_with_refresh(&server, home.path());
    let (_, error) = drain(&client, &prompt("hi"));
    let error = error.unwrap();
    assert!(
        matches!(
            &error,
            ModelError::Unauthorized {
                refreshed: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().ends_with(
            "refused the credentials (401 Unauthorized after a token refresh): still bad; sign in again with `codex login` or check the provider's API key"
        ),
        "{error}"
    );
    assert_eq!(server.requests_to("/v1/responses").len(), 2);
    assert_eq!(server.requests_to("/oauth/token").len(), 1);
}

#[test]
fn api_key_401_is_not_refreshed_and_never_echoes_the_key() {
    let server = ScriptedServer::start(Script::new().otherwise(Reply::json(
        401,
        &json!({"error": {"message": "Incorrect API key provided: sk-mock-123456"}}),
    )));
    let home = tempfile::tempdir().unwrap();
    let client = client(
        &settings_with(mock_provider(&server, 3, 3)),
        KEY_ENV,
        home.path(),
    );
    let (_, error) = drain(&client, &prompt("hi"));
    let error = error.unwrap();
    assert_eq!(server.request_count(), 1);
    assert!(matches!(
        error,
        ModelError::Unauthorized {
            refreshed: false,
            ..
        }
    ));
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains("sk-mock-123456") && text.contains("<redacted>"),
        "{text}"
    );
}

#[test]
fn project_layer_redirects_are_refused_before_anything_is_sent() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    let project = LayerSource::Project {
        dot_codex: "/repo/.codex".into(),
    };
    let mut provider = mock_provider(&server, 0, 0);
    provider.origins.insert("base_url".into(), project.clone());
    let error = try_client(
        &settings_with(provider),
        KEY_ENV,
        home.path(),
        AuthEnvironment::default(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`model_providers.mock.base_url` is set by the project (/repo/.codex/config.toml) layer, which may not send your credentials to a new host; set it in your user config.toml or with `-c` instead"
    );
    let mut settings = openai_at(&server);
    settings.openai_base_url.as_mut().unwrap().layer = project;
    let error = try_client(&settings, &[], home.path(), AuthEnvironment::default()).unwrap_err();
    assert!(matches!(
        error,
        ResolveProviderError::ProjectLayerRedirect { ref key, .. } if key == "openai_base_url"
    ));
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_bearer_with_a_line_break_is_refused_not_dropped() {
    let server = answering();
    let home = tempfile::tempdir().unwrap();
    let mut provider = mock_provider(&server, 0, 0);
    provider.env_key = None;
    provider.experimental_bearer_token = Some("tok\r\nX-Injected: 1".into());
    let client = client(&settings_with(provider), &[], home.path());
    let (_, error) = drain(&client, &prompt("hi"));
    assert_eq!(
        error.unwrap().to_string(),
        "the credential for provider `mock` contains characters an HTTP header cannot carry (a line break?); set it again"
    );
    assert_eq!(server.request_count(), 0);
}
