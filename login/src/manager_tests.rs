use std::path::Path;

use super::*;
use crate::settings::{AuthEnvironment, CredentialsStoreMode};

fn manager(home: &Path, configure: impl FnOnce(&mut AuthSettings)) -> AuthManager {
    let mut settings = AuthSettings::new(home.to_path_buf(), AuthEnvironment::default());
    settings.store_mode = CredentialsStoreMode::File;
    configure(&mut settings);
    AuthManager::new(settings)
}

fn store_api_key(manager: &AuthManager) {
    manager
        .login_with_api_key(Secret::new("sk-stored"))
        .unwrap();
}

#[test]
fn missing_auth_json_returns_none() {
    let home = tempfile::tempdir().unwrap();
    assert!(
        manager(home.path(), |_| {})
            .resolve(ApiKeyEnv::Enabled)
            .unwrap()
            .is_none()
    );
}

#[test]
fn enforce_login_restrictions_logs_out_for_method_mismatch() {
    let home = tempfile::tempdir().unwrap();
    store_api_key(&manager(home.path(), |_| {}));
    let chatgpt_only = manager(home.path(), |settings| {
        settings.forced_login_method = Some(LoginMethod::Chatgpt);
    });
    assert!(chatgpt_only.resolve(ApiKeyEnv::Disabled).unwrap().is_none());
    let error = chatgpt_only.enforce_login_restrictions().unwrap_err();
    assert_eq!(
        error.to_string(),
        "ChatGPT login is required, but an API key is currently being used. Logging out."
    );
    assert!(!home.path().join("auth.json").exists());
}

#[test]
fn enforce_login_restrictions_allows_api_key_if_only_a_workspace_is_forced() {
    let home = tempfile::tempdir().unwrap();
    store_api_key(&manager(home.path(), |_| {}));
    let workspace = manager(home.path(), |settings| {
        settings.forced_workspace_ids = vec!["org_mine".into()];
    });
    assert!(workspace.enforce_login_restrictions().is_ok());
    assert!(home.path().join("auth.json").exists());
}

#[test]
fn enforce_login_restrictions_blocks_env_api_key_when_chatgpt_required() {
    let home = tempfile::tempdir().unwrap();
    let blocked = manager(home.path(), |settings| {
        settings.forced_login_method = Some(LoginMethod::Chatgpt);
        settings.environment.codex_api_key = Some(Secret::new("sk-env"));
    });
    let error = blocked.enforce_login_restrictions().unwrap_err();
    assert!(matches!(
        error,
        EnforceLoginError::Violation(PolicyViolation::ChatgptRequired)
    ));
}

#[test]
fn codex_api_key_wins_only_where_enabled() {
    let home = tempfile::tempdir().unwrap();
    let manager = manager(home.path(), |settings| {
        settings.environment.codex_api_key = Some(Secret::new("sk-env"));
    });
    store_api_key(&manager);
    let enabled = manager.resolve(ApiKeyEnv::Enabled).unwrap().unwrap();
    assert!(matches!(
        enabled,
        CodexAuth::ApiKey {
            source: CredentialSource::Environment,
            ..
        }
    ));
    let disabled = manager.resolve(ApiKeyEnv::Disabled).unwrap().unwrap();
    assert!(matches!(
        disabled,
        CodexAuth::ApiKey {
            source: CredentialSource::Store,
            ..
        }
    ));
}

#[test]
fn stored_api_key_mode_without_a_key_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("auth.json"),
        r#"{"auth_mode":"apikey","OPENAI_API_KEY":null}"#,
    )
    .unwrap();
    let error = manager(home.path(), |_| {})
        .resolve(ApiKeyEnv::Disabled)
        .unwrap_err();
    assert_eq!(error.to_string(), "API key auth is missing a key.");
}
