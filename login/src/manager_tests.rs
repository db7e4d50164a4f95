use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::*;
use crate::settings::{AuthEnvironment, CredentialsStore};
use crate::test_http::TestServer;

fn manager(home: &Path, configure: impl FnOnce(&mut AuthSettings)) -> AuthManager {
    let mut settings = AuthSettings::new(home.to_path_buf(), AuthEnvironment::default());
    settings.store_mode = CredentialsStore::File;
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

const MALFORMED: &str = "{\"OPENAI_API_KEY\": \"sk-hand-edited\",}";

/// Regression: the device flow's pre-login clear deleted a malformed auth.json before the login
/// had succeeded (here it would have failed anyway), instead of reporting the file.
#[test]
fn device_login_deletes_malformed_auth_json() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("auth.json");
    std::fs::write(&path, MALFORMED).unwrap();
    let issuer = TestServer::start(|_| (500, String::new()));
    let manager = manager(home.path(), |settings| settings.issuer = issuer.url.clone());
    let error = manager.login_with_device_code(|_| {}).unwrap_err();
    assert!(
        matches!(
            error,
            crate::DeviceCodeError::StoredCredentials(AuthStoreError::Malformed { .. })
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "`{}` is not a valid auth file (invalid JSON at line 1 column 37); fix it or run `codex logout` to remove it",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), MALFORMED);
    assert!(
        issuer
            .requests("/api/accounts/deviceauth/usercode")
            .is_empty()
    );
    // An explicit logout is the way out the message points to, and still removes it.
    assert!(manager.logout().unwrap());
    assert!(!path.exists());
}

/// If a login that should have stopped starts listening after all, end it (instead of waiting
/// 15 minutes for a callback) so the test fails quickly.
fn cancel(port: u16) {
    std::thread::spawn(move || {
        use std::io::Write;
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /cancel HTTP/1.1\r\n\r\n");
        }
    });
}

/// Regression: same for the browser flow (a cancelled login destroyed the file).
#[test]
fn browser_login_deletes_malformed_auth_json() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("auth.json");
    std::fs::write(&path, MALFORMED).unwrap();
    let manager = manager(home.path(), |settings| {
        settings.environment.login_port = Some(0);
        settings.environment.browser = Some("/nonexistent/browser".into());
    });
    let mut listened = false;
    let error = manager
        .login_with_browser(|login| {
            listened = true;
            cancel(login.port);
        })
        .unwrap_err();
    assert!(
        matches!(
            error,
            crate::BrowserLoginError::StoredCredentials(AuthStoreError::Malformed { .. })
        ),
        "{error:?}"
    );
    assert!(!listened, "the login must stop before it starts listening");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), MALFORMED);
}

/// A refused auth.json (here a symbolic link) is not deleted by a login either.
#[cfg(unix)]
#[test]
fn browser_login_keeps_a_symlinked_auth_json() {
    let home = tempfile::tempdir().unwrap();
    let target = home.path().join("dotfiles-auth.json");
    std::fs::write(&target, r#"{"OPENAI_API_KEY":"sk-linked"}"#).unwrap();
    let path = home.path().join("auth.json");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let manager = manager(home.path(), |settings| {
        settings.environment.login_port = Some(0);
        settings.environment.browser = Some("/nonexistent/browser".into());
    });
    let error = manager
        .login_with_browser(|login| cancel(login.port))
        .unwrap_err();
    assert!(
        error.to_string().ends_with(
            "it is a symbolic link (refusing to follow it; replace it with a regular file)"
        ),
        "{error}"
    );
    assert!(path.symlink_metadata().unwrap().file_type().is_symlink());
}

fn chatgpt_document(refresh_token: &str) -> AuthDotJson {
    use crate::token_data::tests::unsigned_jwt;
    AuthDotJson {
        auth_mode: Some(AuthMode::Chatgpt),
        tokens: Some(crate::auth_file::TokenData {
            id_token: Secret::new(unsigned_jwt(serde_json::json!({"email": "a@example.com"}))),
            access_token: Secret::new(unsigned_jwt(serde_json::json!({"exp": 1}))),
            refresh_token: Secret::new(refresh_token),
            account_id: None,
        }),
        ..AuthDotJson::default()
    }
}

/// Regression: logout read the tokens without the credential lock, so a refresh finishing in
/// between rotated them: the old (already replaced) token was revoked and the new one deleted
/// without being revoked. Now the lock is held from the load through revoke and delete.
#[test]
fn logout_revokes_tokens_read_without_the_lock() {
    let home = tempfile::tempdir().unwrap();
    let lock_path = home.path().join("auth.json.lock");
    let lock_held_during_revoke = Arc::new(AtomicBool::new(false));
    let revoke = {
        let held = lock_held_during_revoke.clone();
        let lock_path = lock_path.clone();
        TestServer::start(move |_| {
            let probe = crate::fs_atomic::FileLock::acquire(&lock_path, Duration::ZERO);
            held.store(probe.is_err(), Ordering::SeqCst);
            (200, "{}".to_string())
        })
    };
    let configure = |settings: &mut AuthSettings| {
        settings.environment.revoke_token_url_override =
            Some(format!("{}/oauth/revoke", revoke.url));
    };
    let refresher = manager(home.path(), configure);
    let lock = refresher.store().lock().unwrap();
    refresher
        .store()
        .save(&chatgpt_document("rt-old"), &lock)
        .unwrap();

    let logout = {
        let logging_out = manager(home.path(), configure);
        std::thread::spawn(move || logging_out.logout())
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        revoke.requests("/oauth/revoke").is_empty(),
        "logout must wait for the lock before reading the tokens"
    );
    // A refresh that holds the lock rotates the refresh token.
    refresher
        .store()
        .save(&chatgpt_document("rt-new"), &lock)
        .unwrap();
    drop(lock);

    assert!(logout.join().unwrap().unwrap());
    let revokes = revoke.requests("/oauth/revoke");
    assert_eq!(revokes.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&revokes[0].body).unwrap();
    assert_eq!(body["token"], "rt-new");
    assert!(lock_held_during_revoke.load(Ordering::SeqCst));
    assert!(!home.path().join("auth.json").exists());
}

#[test]
fn stored_chatgpt_account_reads_back_the_login() {
    let home = tempfile::tempdir().unwrap();
    let manager = manager(home.path(), |_| {});
    assert!(manager.stored_chatgpt_account().unwrap().is_none());
    let lock = manager.store().lock().unwrap();
    manager
        .store()
        .save(&chatgpt_document("rt"), &lock)
        .unwrap();
    let account = manager.stored_chatgpt_account().unwrap().unwrap();
    assert_eq!(account.account_summary(), "`a@example.com`");
}
