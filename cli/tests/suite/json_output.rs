//! `--json` of `login status`, `config show` and `features list`: the documented shapes.

use serde_json::{Value, json};

use crate::suite::common::{TestEnv, code, run, stderr, stdout};

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|error| {
        panic!("not JSON ({error}): {}", stdout(output));
    })
}

#[test]
fn login_status_json_shape() {
    let env = TestEnv::new();
    let output = run(env.codex(["login", "status", "--json"]));
    assert_eq!(code(&output), 1);
    assert_eq!(stderr(&output), "Not logged in\n");
    assert_eq!(
        json_of(&output),
        json!({
            "logged_in": false, "method": null, "source": null, "api_key": null,
            "email": null, "workspace": null, "error": null,
            "store": {"mode": "file", "location": null, "path": null, "collection": null,
                      "persists_across_reboots": null}
        })
    );

    env.write(
        "home/.codex/auth.json",
        r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-proj-1234567890ABCDE"}"#,
    );
    let output = run(env.codex(["login", "status", "--json"]));
    assert_eq!(code(&output), 0);
    assert_eq!(
        json_of(&output),
        json!({
            "logged_in": true, "method": "api_key", "source": "store",
            "api_key": "sk-proj-***ABCDE", "email": null, "workspace": null, "error": null,
            "store": {"mode": "file", "location": "file",
                      "path": env.codex_home().join("auth.json").to_string_lossy(),
                      "collection": null, "persists_across_reboots": true}
        })
    );

    let output = run(env
        .codex(["login", "status", "--json"])
        .env("CODEX_ACCESS_TOKEN", "garbage"));
    assert_eq!(code(&output), 1);
    let value = json_of(&output);
    assert_eq!(value["logged_in"], json!(false));
    assert!(
        value["error"]
            .as_str()
            .unwrap()
            .starts_with("Error checking login status: `CODEX_ACCESS_TOKEN` cannot be used"),
        "{value}"
    );
}

#[test]
fn config_show_json_shape() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "approval_policy = \"never\"\nsandbox_mode = \"read-only\"\n",
    );
    let output = run(env.codex([
        "-c",
        "features.network_proxy=true",
        "config",
        "show",
        "--json",
    ]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["config"]["approval_policy"], json!("never"));
    assert_eq!(value["config"]["features"]["network_proxy"], json!(true));
    assert_eq!(
        value["origins"]["features.network_proxy"],
        json!("session-flags (-c)")
    );
    let user = format!("user ({})", env.codex_home().join("config.toml").display());
    assert_eq!(value["origins"]["approval_policy"], json!(user));
    let layers = value["layers"].as_array().unwrap();
    assert_eq!(
        layers[0],
        json!({"kind": "default", "name": "default", "path": null, "enabled": true, "disabled_reason": null})
    );
    assert!(layers.iter().any(|layer| layer["kind"] == "user"
        && layer["path"] == json!(env.codex_home().join("config.toml").to_string_lossy())));
    assert_eq!(value["warnings"], json!([]));
    let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["config", "layers", "origins", "warnings"]);
}

#[test]
fn features_list_json_shape() {
    let env = TestEnv::new();
    let output = run(env.codex(["--enable", "network_proxy", "features", "list", "--json"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let value = json_of(&output);
    let features = value["features"].as_array().unwrap();
    let names: Vec<&str> = features
        .iter()
        .map(|feature| feature["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    let proxy = features
        .iter()
        .find(|feature| feature["name"] == "network_proxy")
        .unwrap();
    assert_eq!(
        proxy,
        &json!({"name": "network_proxy", "stage": "experimental", "enabled": true,
                "default_enabled": false,
                "description": "Route sandboxed network traffic through the managed network proxy."})
    );
}
