use super::*;

fn table(text: &str) -> Table {
    text.parse().unwrap()
}

#[test]
fn secrets_are_replaced_and_names_of_variables_kept() {
    let merged = table(
        r#"
        model = "o3"
        [model_providers.x]
        base_url = "http://127.0.0.1:1/v1"
        env_key = "X_API_KEY"
        experimental_bearer_token = "sk-one"
        http_headers = { "X-Api" = "sk-two" }
        env_http_headers = { "X-Org" = "X_ORG" }
        [mcp_servers.m]
        command = "srv"
        env = { TOKEN = "sk-three" }
        bearer_token_env_var = "M_TOKEN"
        [[profiles_list]]
        client_secret = "sk-four"
        "#,
    );
    let shown = redacted(&merged).to_string();
    for secret in ["sk-one", "sk-two", "sk-three", "sk-four"] {
        assert!(!shown.contains(secret), "{secret} shown in:\n{shown}");
    }
    for kept in [
        "X_API_KEY",
        "X_ORG",
        "M_TOKEN",
        "o3",
        "http://127.0.0.1:1/v1",
        "X-Api",
        "TOKEN",
    ] {
        assert!(shown.contains(kept), "{kept} hidden in:\n{shown}");
    }
    assert_eq!(shown.matches(REDACTED).count(), 4, "{shown}");
}

#[test]
fn secret_key_names() {
    for key in [
        "experimental_bearer_token",
        "access_token",
        "API_KEY",
        "client_secret",
        "password",
        "Authorization",
    ] {
        assert!(is_secret_key(key), "{key}");
    }
    for key in [
        "env_key",
        "bearer_token_env_var",
        "model",
        "token_limit",
        "env_http_headers",
    ] {
        assert!(!is_secret_key(key), "{key}");
    }
}
