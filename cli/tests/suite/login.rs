//! `codex login` / `codex logout` end to end: the real binary against an issuer served by the
//! test on 127.0.0.1 (`login/issuer.rs`), with a script standing in for the browser.

mod issuer;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use self::issuer::{
    MockIssuer, access_token, agent_identity_claims, browse, browser_get, id_token, json, jwks,
    now, query_pairs, signed_jwt, status,
};
use crate::suite::common::{TestEnv, code, run, stderr, with_stdin};

fn auth_json(env: &TestEnv) -> Option<Value> {
    let text = std::fs::read_to_string(env.codex_home().join("auth.json")).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

fn write_auth(env: &TestEnv, value: &Value) {
    env.write("home/.codex/auth.json", &value.to_string());
}

fn chatgpt_auth(account: &str, exp: i64, refresh_token: &str) -> Value {
    json!({
        "auth_mode": "chatgpt", "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": id_token(account), "access_token": access_token(exp),
            "refresh_token": refresh_token, "account_id": account
        },
        "last_refresh": "2025-01-01T00:00:00.000000Z"
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `BROWSER` script that records the URL it is asked to open.
fn browser_script(env: &TestEnv) -> (PathBuf, PathBuf) {
    let url_file = env.root().join("browser-url");
    let script = env.write(
        "browser.sh",
        &format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > {0}.tmp && mv {0}.tmp {0}\n",
            url_file.display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, url_file)
}

fn wait_for_file(path: &Path) -> String {
    for _ in 0..1000 {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}

fn spawn_browser_login(
    env: &TestEnv,
    issuer: &MockIssuer,
    port: u16,
    fallback: u16,
    extra: &[&str],
) -> (Child, PathBuf) {
    let (script, url_file) = browser_script(env);
    let _ = std::fs::remove_file(&url_file);
    let mut command = env.codex(["login", "--experimental_issuer", &issuer.url]);
    command
        .args(extra)
        .env("BROWSER", &script)
        .env("CODEX_LOGIN_SERVER_PORT", port.to_string())
        .env("CODEX_LOGIN_SERVER_FALLBACK_PORT", fallback.to_string())
        .env(
            "CODEX_REVOKE_TOKEN_URL_OVERRIDE",
            format!("{}/oauth/revoke", issuer.url),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    (command.spawn().unwrap(), url_file)
}

fn issue_tokens(issuer: &MockIssuer, account: &str) {
    issuer.once(
        "/oauth/token",
        json(
            200,
            json!({
                "id_token": id_token(account), "access_token": access_token(now() + 3600),
                "refresh_token": "refresh-123"
            }),
        ),
    );
    issuer.once(
        "/oauth/token",
        json(200, json!({"access_token": "access-123"})),
    );
}

#[test]
fn login_with_api_key_reads_stdin_and_writes_auth_json() {
    let env = TestEnv::new();
    let mut command = env.codex([
        "-c",
        "forced_login_method=\"api\"",
        "login",
        "--with-api-key",
    ]);
    command.env("CODEX_API_KEY", "sk-from-env-ignored");
    let output = with_stdin(command, "sk-test\n");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "Reading API key from stdin...\nAPI key saved. Authentication is checked when you send a request.\n"
    );
    assert_eq!(
        auth_json(&env).unwrap(),
        json!({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-test"})
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.codex_home().join("auth.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let log = env.codex_home().join("log/codex-login.log");
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!std::fs::read_to_string(&log).unwrap().contains("sk-test"));
}

#[test]
fn status_masks_the_key_ignores_codex_api_key_and_logout_removes_it() {
    let env = TestEnv::new();
    let output = run(env
        .codex(["login", "status"])
        .env("CODEX_API_KEY", "sk-env"));
    assert_eq!(
        (code(&output), stderr(&output)),
        (1, "Not logged in\n".to_string())
    );
    with_stdin(
        env.codex(["login", "--with-api-key"]),
        "sk-proj-1234567890ABCDE",
    );
    let output = run(&mut env.codex(["login", "status"]));
    assert_eq!(
        stderr(&output),
        "Logged in using an API key - sk-proj-***ABCDE\n"
    );
    assert_eq!(code(&output), 0);
    let output = run(&mut env.codex(["logout"]));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Successfully logged out\n".to_string())
    );
    assert!(auth_json(&env).is_none());
    let output = run(&mut env.codex(["logout"]));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Not logged in\n".to_string())
    );
}

#[test]
fn stdin_and_flag_errors_use_the_upstream_messages() {
    let env = TestEnv::new();
    let output = with_stdin(env.codex(["login", "--with-api-key"]), "  \n");
    assert_eq!(
        stderr(&output),
        "Reading API key from stdin...\nNo API key provided via stdin.\n"
    );
    assert_eq!(code(&output), 1);
    let output = run(&mut env.codex(["login", "--with-api-key", "--with-access-token"]));
    assert_eq!(
        stderr(&output),
        "Choose one login credential source: --with-api-key or --with-access-token.\n"
    );
    assert_eq!(code(&output), 1);
    let output = run(&mut env.codex(["login", "--api-key", "sk-x"]));
    assert_eq!(
        stderr(&output),
        "The --api-key flag is no longer supported. Pipe the key instead, e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`.\n"
    );
    let output = run(&mut env.codex(["login", "--with-agent-identity"]));
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let output = with_stdin(
        env.codex([
            "-c",
            "forced_login_method=\"chatgpt\"",
            "login",
            "--with-api-key",
        ]),
        "sk-x",
    );
    assert_eq!(
        stderr(&output),
        "Reading API key from stdin...\nAPI key login is disabled. Use ChatGPT login instead.\n"
    );
    assert_eq!(code(&output), 1);
    let output = run(&mut env.codex([
        "-c",
        "forced_login_method=\"api\"",
        "login",
        "--device-auth",
    ]));
    assert_eq!(
        stderr(&output),
        "ChatGPT login is disabled. Use API key login instead.\n"
    );
    let output = run(&mut env.codex(["login", "-c", "model"]));
    assert!(
        stderr(&output).starts_with("Error parsing -c overrides: "),
        "{}",
        stderr(&output)
    );
    assert_eq!(code(&output), 1);
    assert!(auth_json(&env).is_none());
}

#[test]
fn malformed_auth_json_is_an_error_and_is_not_overwritten() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/auth.json",
        "{\"OPENAI_API_KEY\": \"sk-secret-value\",",
    );
    let output = run(&mut env.codex(["login", "status"]));
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(text.starts_with("Error checking login status: `"), "{text}");
    assert!(
        text.contains("auth.json` is not a valid auth file"),
        "{text}"
    );
    assert!(!text.contains("sk-secret-value"), "{text}");
    let output = with_stdin(env.codex(["login", "--with-api-key"]), "sk-new");
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let unchanged = std::fs::read_to_string(env.codex_home().join("auth.json")).unwrap();
    assert_eq!(unchanged, "{\"OPENAI_API_KEY\": \"sk-secret-value\",");
}

/// Regression: browser and device-code login cleared the stored credentials before signing in,
/// so a cancelled or failed login deleted a malformed (hand-edited) auth.json.
#[test]
fn login_deletes_malformed_auth_json_before_signing_in() {
    let env = TestEnv::new();
    let original = "{\"OPENAI_API_KEY\": \"sk-secret-value\",";
    env.write("home/.codex/auth.json", original);
    let path = env.codex_home().join("auth.json");
    let problem = format!(
        "`{}` is not a valid auth file (unexpected end of file at line 1 column 37); fix it or run `codex logout` to remove it",
        path.display()
    );
    let issuer = MockIssuer::start();
    let output = run(&mut env.codex([
        "login",
        "--device-auth",
        "--experimental_issuer",
        &issuer.url,
    ]));
    assert_eq!(
        (code(&output), stderr(&output)),
        (1, format!("Error logging in with device code: {problem}\n"))
    );
    assert!(
        issuer
            .requests("/api/accounts/deviceauth/usercode")
            .is_empty()
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);

    let port = free_port();
    let (child, url_file) = spawn_browser_login(&env, &issuer, port, free_port(), &[]);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        (code(&output), stderr(&output)),
        (1, format!("Error logging in: {problem}\n"))
    );
    assert!(!url_file.exists(), "no browser was opened");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);

    // `codex logout`, which the message suggests, still removes it.
    let output = run(&mut env.codex(["logout"]));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Successfully logged out\n".to_string())
    );
    assert!(!path.exists());
}

/// Regression: the login log was opened through a symbolic link (and the target chmod'ed to
/// 0600 and appended to).
#[test]
fn login_log_follows_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let victim = env.write("victim.txt", "original\n");
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir_all(env.codex_home().join("log")).unwrap();
    let log = env.codex_home().join("log/codex-login.log");
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    let output = run(&mut env.codex(["logout"]));
    assert_eq!(
        (code(&output), stderr(&output)),
        (
            0,
            format!(
                "Warning: failed to open login log: `{}`: it is a symbolic link (refusing to follow it; replace it with a regular file)\nNot logged in\n",
                log.display()
            )
        )
    );
    assert_eq!(
        std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original\n");
}

#[test]
fn login_with_access_token_verifies_the_jwt_against_the_jwks() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    issuer.on(
        "/backend-api/codex/agent-identities/jwks",
        json(200, jwks("kid-1")),
    );
    let base = format!("chatgpt_base_url=\"{}/backend-api\"", issuer.url);
    let token = signed_jwt("kid-1", agent_identity_claims("org_mine"));
    let output = with_stdin(
        env.codex(["-c", &base, "login", "--with-access-token"]),
        &token,
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "Reading access token from stdin...\nSuccessfully logged in\n"
    );
    assert_eq!(
        auth_json(&env).unwrap(),
        json!({"auth_mode": "agentIdentity", "OPENAI_API_KEY": null, "agent_identity": token})
    );
    let output = run(&mut env.codex(["-c", &base, "login", "status"]));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Logged in using access token\n".into())
    );

    let untrusted = signed_jwt("kid-2", agent_identity_claims("org_mine"));
    let other = TestEnv::new();
    let output = with_stdin(
        other.codex(["-c", &base, "login", "--with-access-token"]),
        &untrusted,
    );
    assert_eq!(
        stderr(&output),
        "Reading access token from stdin...\nError logging in with access token: the access token is signed with key `kid-2`, which the trusted key set (JWKS) does not list\n"
    );
    assert!(auth_json(&other).is_none());

    let workspace = "forced_chatgpt_workspace_id=\"org_other\"";
    let output = with_stdin(
        other.codex(["-c", &base, "-c", workspace, "login", "--with-access-token"]),
        &token,
    );
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).ends_with("Login is restricted to workspace id(s) org_other.\n"),
        "{}",
        stderr(&output)
    );
    assert!(auth_json(&other).is_none());
}

#[test]
fn personal_access_tokens_use_whoami_and_env_tokens_are_never_written() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    issuer.on(
        "/api/accounts/v1/user-auth-credential/whoami",
        json(
            200,
            json!({"email": null, "chatgpt_user_id": "u", "chatgpt_account_id": "org_1",
            "chatgpt_plan_type": "pro", "chatgpt_account_is_fedramp": false}),
        ),
    );
    let authapi = format!("{}/api/accounts", issuer.url);
    let mut command = env.codex(["login", "--with-access-token"]);
    command.env("CODEX_AUTHAPI_BASE_URL", &authapi);
    let output = with_stdin(command, "at-personal-token\n");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        auth_json(&env).unwrap(),
        json!({"OPENAI_API_KEY": null, "personal_access_token": "at-personal-token"})
    );
    let whoami = issuer.requests("/api/accounts/v1/user-auth-credential/whoami");
    assert!(
        whoami[0]
            .headers
            .contains(&("authorization".into(), "Bearer at-personal-token".into()))
    );

    let fresh = TestEnv::new();
    let output = run(fresh
        .codex(["login", "status"])
        .env("CODEX_ACCESS_TOKEN", "at-from-env")
        .env("CODEX_AUTHAPI_BASE_URL", &authapi));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Logged in using personal access token\n".into())
    );
    assert!(!fresh.codex_home().join("auth.json").exists());
}

#[test]
fn end_to_end_browser_login_persists_auth_json() {
    let env = TestEnv::new();
    write_auth(&env, &json!({"OPENAI_API_KEY": "sk-stale"}));
    let issuer = MockIssuer::start();
    issue_tokens(&issuer, "org_a");
    let port = free_port();
    let workspace = "forced_chatgpt_workspace_id=[\"org_a\",\"org_b\"]";
    let (child, url_file) =
        spawn_browser_login(&env, &issuer, port, free_port(), &["-c", workspace]);
    let auth_url = wait_for_file(&url_file);
    let pages = browse(&auth_url);
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).ends_with(
            "\nSigned in as `user@example.com` (workspace `org_a`, plan `pro`). If this is not your account, run `codex logout`.\nSuccessfully logged in\n"
        ),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains(&auth_url));

    let (_, query) = auth_url.split_once('?').unwrap();
    let params = query_pairs(query);
    let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "response_type",
            "client_id",
            "redirect_uri",
            "code_challenge",
            "code_challenge_method",
            "state",
            "scope",
            "id_token_add_organizations",
            "codex_cli_simplified_flow",
            "originator",
            "allowed_workspace_id"
        ]
    );
    assert!(query.contains(&format!(
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fauth%2Fcallback"
    )));
    assert!(query.ends_with("&allowed_workspace_id=org_a%2Corg_b"));

    assert_eq!(pages[1].status, 302);
    assert!(pages[1].location.as_deref().unwrap().starts_with(&format!(
        "http://127.0.0.1:{port}/success?needs_setup=true&org_id=org-abc"
    )));
    assert!(!pages[1].location.as_deref().unwrap().contains("id_token"));
    assert_eq!(pages[2].status, 200);

    let stored = auth_json(&env).unwrap();
    assert_eq!(stored["auth_mode"], "chatgpt");
    assert_eq!(stored["OPENAI_API_KEY"], "access-123");
    assert_eq!(stored["tokens"]["refresh_token"], "refresh-123");
    assert_eq!(stored["tokens"]["account_id"], "org_a");
    let exchange = &issuer.requests("/oauth/token")[0].body;
    assert!(
        exchange.starts_with("grant_type=authorization_code&code=test-code&redirect_uri="),
        "{exchange}"
    );
    let verifier = query_pairs(exchange)
        .into_iter()
        .find(|(k, _)| k == "code_verifier")
        .unwrap()
        .1;
    assert_eq!(verifier.len(), 86);
}

#[test]
fn state_mismatch_keeps_serving_and_cancel_ends_the_login() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    let port = free_port();
    let (child, url_file) = spawn_browser_login(&env, &issuer, port, free_port(), &[]);
    wait_for_file(&url_file);
    let page = browser_get(&format!(
        "http://localhost:{port}/auth/callback?code=x&state=forged"
    ));
    assert_eq!((page.status, page.body.as_str()), (400, "State mismatch"));
    let page = browser_get(&format!("http://localhost:{port}/cancel"));
    assert_eq!((page.status, page.body.as_str()), (200, "Login cancelled"));
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).ends_with("Error logging in: Login cancelled\n"),
        "{}",
        stderr(&output)
    );
    assert!(issuer.requests("/oauth/token").is_empty());
    assert!(auth_json(&env).is_none());
}

#[test]
fn entitlement_error_page_and_workspace_restriction_write_nothing() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    let port = free_port();
    let (child, url_file) = spawn_browser_login(&env, &issuer, port, free_port(), &[]);
    let state = query_pairs(wait_for_file(&url_file).split_once('?').unwrap().1)
        .into_iter()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1;
    let page = browser_get(&format!(
        "http://localhost:{port}/auth/callback?state={}&error=access_denied&error_description=Missing_Codex_Entitlement%3Cb%3E",
        issuer::encode(&state)
    ));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("You do not have access to Codex"));
    assert!(page.body.contains("Contact your workspace administrator"));
    assert!(page.body.contains("access_denied"));
    assert!(
        !page
            .body
            .to_lowercase()
            .contains("missing_codex_entitlement")
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).ends_with(
        "Error logging in: Codex is not enabled for your workspace. Contact your workspace administrator to request access to Codex.\n"
    ));

    issue_tokens(&issuer, "org_other");
    let (child, url_file) = spawn_browser_login(
        &env,
        &issuer,
        port,
        free_port(),
        &["-c", "forced_chatgpt_workspace_id=\"org_mine\""],
    );
    let pages = browse(&wait_for_file(&url_file));
    assert!(
        pages[1]
            .body
            .contains("Login is restricted to workspace id(s) org_mine.")
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 1);
    assert!(auth_json(&env).is_none());
}

#[test]
fn falls_back_to_the_second_port_when_the_first_is_taken() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let fallback = free_port();
    let (child, url_file) = spawn_browser_login(&env, &issuer, busy_port, fallback, &[]);
    let url = wait_for_file(&url_file);
    assert!(
        url.contains(&format!(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A{fallback}%2Fauth%2Fcallback"
        )),
        "{url}"
    );
    browser_get(&format!("http://localhost:{fallback}/cancel"));
    assert_eq!(code(&child.wait_with_output().unwrap()), 1);
    drop(busy);
}

#[test]
fn a_second_login_cancels_the_first_and_takes_its_port() {
    let env = TestEnv::new();
    let second_env = TestEnv::new();
    let issuer = MockIssuer::start();
    let port = free_port();
    let (first, first_url) = spawn_browser_login(&env, &issuer, port, free_port(), &[]);
    wait_for_file(&first_url);
    let (second, second_url) = spawn_browser_login(&second_env, &issuer, port, free_port(), &[]);
    let first_output = first.wait_with_output().unwrap();
    assert!(stderr(&first_output).ends_with("Error logging in: Login cancelled\n"));
    let url = wait_for_file(&second_url);
    assert!(url.contains(&format!("127.0.0.1%3A{port}%2F")), "{url}");
    browser_get(&format!("http://localhost:{port}/cancel"));
    assert_eq!(code(&second.wait_with_output().unwrap()), 1);
}

#[test]
fn device_code_login_polls_until_authorized_and_persists() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    issuer.on(
        "/api/accounts/deviceauth/usercode",
        json(
            200,
            json!({"device_auth_id": "dev-1", "user_code": "ABCD-1234", "interval": "0"}),
        ),
    );
    issuer.once("/api/accounts/deviceauth/token", status(404));
    issuer.on("/api/accounts/deviceauth/token",
        json(200, json!({"authorization_code": "dev-code", "code_challenge": "c", "code_verifier": "dev-verifier"})));
    issuer.once("/oauth/token", json(200, json!({
        "id_token": id_token("org_dev"), "access_token": access_token(now() + 3600), "refresh_token": "rt-dev"})));
    issuer.once("/oauth/token", status(500));
    let output = run(env
        .codex([
            "login",
            "--device-auth",
            "--experimental_issuer",
            &issuer.url,
            "--experimental_client-id",
            "client-x",
        ])
        .env(
            "CODEX_REVOKE_TOKEN_URL_OVERRIDE",
            format!("{}/oauth/revoke", issuer.url),
        ));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let expected_prompt = format!(
        "\nWelcome to Codex [v{}]\nOpenAI's command-line coding agent\n\nFollow these steps to sign in with ChatGPT using device code authorization:\n\n1. Open this link in your browser and sign in to your account\n   {}/codex/device\n\n2. Enter this one-time code (expires in 15 minutes)\n   ABCD-1234\n\nDevice codes are a common phishing target. Never share this code.\nSigned in as `user@example.com` (workspace `org_dev`, plan `pro`). If this is not your account, run `codex logout`.\nSuccessfully logged in\n",
        env!("CARGO_PKG_VERSION"),
        issuer.url
    );
    assert_eq!(stderr(&output), expected_prompt);
    assert_eq!(issuer.requests("/api/accounts/deviceauth/token").len(), 2);
    assert_eq!(
        issuer.requests("/api/accounts/deviceauth/usercode")[0].body,
        r#"{"client_id":"client-x"}"#
    );
    let exchange = &issuer.requests("/oauth/token")[0].body;
    assert!(exchange.contains(&format!(
        "redirect_uri={}",
        issuer::encode(&format!("{}/deviceauth/callback", issuer.url))
    )));
    assert!(exchange.contains("code_verifier=dev-verifier"));
    let stored = auth_json(&env).unwrap();
    assert_eq!(stored["tokens"]["account_id"], "org_dev");
    assert_eq!(stored["OPENAI_API_KEY"], Value::Null);
    assert_eq!(stored["tokens"]["id_token"], id_token("org_dev"));
}

#[test]
fn device_code_usercode_failure_writes_nothing() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    issuer.on("/api/accounts/deviceauth/usercode", status(503));
    let output = run(&mut env.codex([
        "login",
        "--device-auth",
        "--experimental_issuer",
        &issuer.url,
    ]));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "Error logging in with device code: device code request failed with status 503\n"
    );
    assert!(auth_json(&env).is_none());
}

fn refresh(env: &TestEnv, issuer: &MockIssuer) -> Command {
    let mut command = env.codex(["login", "refresh"]);
    command.env(
        "CODEX_REFRESH_TOKEN_URL_OVERRIDE",
        format!("{}/oauth/token", issuer.url),
    );
    command
}

#[test]
fn expired_access_token_is_refreshed_and_stored() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    write_auth(&env, &chatgpt_auth("org_1", now() - 10, "rt-old"));
    issuer.once(
        "/oauth/token",
        json(
            200,
            json!({"access_token": access_token(now() + 3600), "refresh_token": "rt-new"}),
        ),
    );
    let output = run(&mut refresh(&env, &issuer));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Refreshed tokens\n".into())
    );
    let request: Value = serde_json::from_str(&issuer.requests("/oauth/token")[0].body).unwrap();
    assert_eq!(
        request,
        json!({"client_id": "app_EMoamEEZ73f0CkXaXp7hrann", "grant_type": "refresh_token", "refresh_token": "rt-old"})
    );
    let stored = auth_json(&env).unwrap();
    assert_eq!(stored["tokens"]["refresh_token"], "rt-new");
    assert_eq!(stored["tokens"]["id_token"], id_token("org_1"));
    assert_ne!(stored["last_refresh"], "2025-01-01T00:00:00.000000Z");
    let output = run(&mut refresh(&env, &issuer));
    assert_eq!(stderr(&output), "Tokens are still fresh\n");
    assert_eq!(issuer.requests("/oauth/token").len(), 1);
}

#[test]
fn permanent_refresh_failure_blanks_the_refresh_token_and_transient_changes_nothing() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    let original = chatgpt_auth("org_1", now() - 10, "rt-old");
    write_auth(&env, &original);
    issuer.once(
        "/oauth/token",
        json(
            500,
            json!({"error": "server_error", "message": "echo rt-old"}),
        ),
    );
    let output = run(&mut refresh(&env, &issuer));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "Failed to refresh token: 500: server_error: echo <redacted>\n"
    );
    assert_eq!(auth_json(&env).unwrap(), original);

    issuer.once(
        "/oauth/token",
        json(401, json!({"error": {"code": "refresh_token_expired"}})),
    );
    let output = run(&mut refresh(&env, &issuer));
    assert_eq!(
        stderr(&output),
        "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.\n"
    );
    let mut blanked = original.clone();
    blanked["tokens"]["refresh_token"] = json!("");
    assert_eq!(auth_json(&env).unwrap(), blanked);
    let output = run(&mut refresh(&env, &issuer));
    assert_eq!(code(&output), 1);
    assert_eq!(
        issuer.requests("/oauth/token").len(),
        2,
        "no retry after a permanent failure"
    );
}

#[test]
fn concurrent_refreshes_use_the_refresh_token_once() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    write_auth(&env, &chatgpt_auth("org_1", now() - 10, "rt-old"));
    let mut reply = json(
        200,
        json!({"access_token": access_token(now() + 3600), "refresh_token": "rt-new"}),
    );
    reply.delay = Duration::from_millis(300);
    issuer.once("/oauth/token", reply);
    issuer.on(
        "/oauth/token",
        json(400, json!({"error": {"code": "refresh_token_reused"}})),
    );
    let spawn = || {
        refresh(&env, &issuer)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    for output in &outputs {
        assert_eq!(code(output), 0, "{}", stderr(output));
    }
    assert_eq!(issuer.requests("/oauth/token").len(), 1);
    assert_eq!(
        auth_json(&env).unwrap()["tokens"]["refresh_token"],
        "rt-new"
    );
}

#[test]
fn logout_revokes_the_refresh_token_and_removes_auth_even_when_revoke_fails() {
    let env = TestEnv::new();
    let issuer = MockIssuer::start();
    write_auth(&env, &chatgpt_auth("org_1", now() + 3600, "refresh-token"));
    let output = run(env.codex(["logout"]).env(
        "CODEX_REFRESH_TOKEN_URL_OVERRIDE",
        format!("{}/oauth/token?unified=true", issuer.url),
    ));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Successfully logged out\n".into())
    );
    let revokes = issuer.requests("/oauth/revoke");
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0].method, "POST");
    let body: Value = serde_json::from_str(&revokes[0].body).unwrap();
    assert_eq!(
        body,
        json!({"token": "refresh-token", "token_type_hint": "refresh_token", "client_id": "app_EMoamEEZ73f0CkXaXp7hrann"})
    );
    assert!(auth_json(&env).is_none());

    write_auth(&env, &chatgpt_auth("org_1", now() + 3600, ""));
    issuer.on("/oauth/revoke", status(500));
    let output = run(env.codex(["logout"]).env(
        "CODEX_REVOKE_TOKEN_URL_OVERRIDE",
        format!("{}/oauth/revoke", issuer.url),
    ));
    assert_eq!(
        (code(&output), stderr(&output)),
        (0, "Successfully logged out\n".into())
    );
    let body: Value = serde_json::from_str(&issuer.requests("/oauth/revoke")[1].body).unwrap();
    assert_eq!(body["token_type_hint"], "access_token");
    assert!(auth_json(&env).is_none());
}

/// `cli_auth_credentials_store = "keyring"` with the real kernel keyring (user keyring of the
/// test user): nothing on disk, readable by a second process, removed by logout.
#[test]
fn keyring_store_uses_the_kernel_keyring() {
    let env = TestEnv::new();
    let store = "cli_auth_credentials_store=\"keyring\"";
    let output = with_stdin(
        env.codex(["-c", store, "login", "--with-api-key"]),
        "sk-keyring-1234567890",
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(auth_json(&env).is_none());
    let output = run(&mut env.codex(["-c", store, "login", "status"]));
    assert_eq!(
        stderr(&output),
        "Logged in using an API key - sk-keyri***67890\nStored in the kernel user keyring (lost at reboot; Secret Service not used: no session bus (`DBUS_SESSION_BUS_ADDRESS` is not set))\n"
    );
    let output = run(&mut env.codex(["login", "status"]));
    assert_eq!(stderr(&output), "Not logged in\n");
    let output = run(&mut env.codex(["-c", store, "logout"]));
    assert_eq!(stderr(&output), "Successfully logged out\n");
    let output = run(&mut env.codex(["-c", store, "login", "status"]));
    assert_eq!(stderr(&output), "Not logged in\n");
}

/// A sandboxed command that keeps reading `$CODEX_HOME` while the host signs in (atomic rename
/// of a new `auth.json`), refreshes and signs out never sees a credential, a temporary file, the
/// lock, or even the names in the directory (bubblewrap); with `$CODEX_HOME` missing when the run
/// starts too (the sandbox creates it, 0700, and hides it). As root and as uid 65534.
#[test]
fn a_running_sandbox_never_sees_credentials_across_login_refresh_and_logout() {
    use crate::suite::common::{as_nobody, chown_to_nobody};
    use std::io::{BufRead, BufReader};
    codex_test_support::require_root_and_setpriv();
    for (nobody, missing_home) in [(false, false), (false, true), (true, false), (true, true)] {
        let env = TestEnv::new();
        let issuer = MockIssuer::start();
        let codex_home = env.codex_home();
        if missing_home {
            std::fs::remove_dir_all(&codex_home).unwrap();
        }
        if nobody {
            chown_to_nobody(&env.root());
        }
        // Without `CODEX_HOME` set, the default `~/.codex` may be missing (an explicit
        // `CODEX_HOME` must exist, as upstream).
        let as_user = |mut command: Command| {
            if missing_home {
                command.env_remove("CODEX_HOME");
            }
            if nobody { as_nobody(&command) } else { command }
        };
        let probe = r#"echo ready
while [ ! -e stop ]; do
  cat "$HOME"/.codex/auth.json "$HOME"/.codex/.auth.json.tmp* 2>/dev/null
  ls -a "$HOME"/.codex 2>/dev/null | grep -v '^\.\.\?$'
  flock -n "$HOME/.codex/auth.json.lock" true 2>/dev/null && echo LOCKED
  sleep 0.01
done
echo finished"#;
        let mut sandbox =
            as_user(env.codex(["sandbox", "-P", ":workspace", "--", "/bin/sh", "-c", probe]));
        let mut child = sandbox
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        if lines.next().and_then(Result::ok).as_deref() != Some("ready") {
            let mut error = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut error).unwrap();
            panic!("nobody={nobody} missing={missing_home}: the sandbox did not start: {error}");
        }
        if missing_home {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&codex_home).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "CODEX_HOME created private");
        }

        let output = with_stdin(
            as_user(env.codex(["login", "--with-api-key"])),
            "sk-live-login-secret\n",
        );
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert!(auth_json(&env).is_some());
        let chatgpt = chatgpt_auth("org_1", now() - 10, "rt-old-secret");
        let mut write = as_user(env.codex(["login", "status"]));
        // Replace auth.json atomically as a login would, then refresh and log out.
        let staged = env.root().join("staged.json");
        std::fs::write(&staged, chatgpt.to_string()).unwrap();
        if nobody {
            std::os::unix::fs::chown(&staged, Some(65534), Some(65534)).unwrap();
        }
        std::fs::rename(&staged, codex_home.join("auth.json")).unwrap();
        assert_eq!(code(&run(&mut write)), 0);
        issuer.once(
            "/oauth/token",
            json(
                200,
                json!({"access_token": access_token(now() + 3600), "refresh_token": "rt-new-secret"}),
            ),
        );
        let output = run(&mut as_user(refresh(&env, &issuer)));
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        assert_eq!(
            auth_json(&env).unwrap()["tokens"]["refresh_token"],
            "rt-new-secret"
        );
        let output = run(as_user(env.codex(["logout"])).env(
            "CODEX_REVOKE_TOKEN_URL_OVERRIDE",
            format!("{}/oauth/revoke", issuer.url),
        ));
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        // Signed in again, so the file exists at the end too.
        let output = with_stdin(
            as_user(env.codex(["login", "--with-api-key"])),
            "sk-live-second-secret\n",
        );
        assert_eq!(code(&output), 0, "{}", stderr(&output));

        // Control: the same reads without the sandbox see the credentials and the lock.
        let control_script = probe
            .replace("while [ ! -e stop ]", "for _ in 1")
            .replace("sleep 0.01", "true");
        let mut control = Command::new("/bin/sh");
        control
            .args(["-c", &control_script])
            .env_clear()
            .env("HOME", env.home())
            .env("PATH", "/usr/bin:/bin")
            .current_dir(env.work());
        let control = run(&mut as_user(control));
        let control = String::from_utf8_lossy(&control.stdout);
        assert!(
            control.contains("sk-live-second-secret") && control.contains("LOCKED"),
            "the control reads must work: {control}"
        );

        std::fs::write(env.work().join("stop"), "").unwrap();
        let seen: Vec<String> = lines.map(Result::unwrap).collect();
        let status = child.wait().unwrap();
        assert!(status.success(), "nobody={nobody} missing={missing_home}");
        assert_eq!(
            seen,
            vec!["finished".to_string()],
            "nobody={nobody} missing={missing_home}: the sandbox saw something of CODEX_HOME"
        );
    }
}
