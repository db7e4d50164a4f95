//! `codex config show`, `codex features list` and configuration errors, through the real
//! binary. Temporary paths are replaced by `[ROOT]` before comparing whole outputs.

use crate::suite::common::{TestEnv, code, run, stderr, stdout};

/// (exit code, stdout, stderr) with the test root replaced by `[ROOT]`.
fn outcome(env: &TestEnv, args: &[&str]) -> (i32, String, String) {
    let output = run(&mut env.codex(args));
    let root = env.root().to_string_lossy().into_owned();
    (
        code(&output),
        stdout(&output).replace(&root, "[ROOT]"),
        stderr(&output).replace(&root, "[ROOT]"),
    )
}

const DEFAULT_TAIL: &str = "\
[features]
elevated_windows_sandbox = false
experimental_windows_sandbox = false
network_proxy = false
use_legacy_landlock = false
use_linux_sandbox_bwrap = false

[shell_environment_policy]
ignore_default_excludes = false
inherit = \"all\"
";

#[test]
fn config_show_defaults() {
    let env = TestEnv::new();
    let expected = format!(
        "\
approval_policy = \"on-request\"
chatgpt_base_url = \"https://chatgpt.com/backend-api/\"
cli_auth_credentials_store = \"file\"
project_root_markers = [\".git\"]

{DEFAULT_TAIL}"
    );
    assert_eq!(
        outcome(&env, &["config", "show"]),
        (0, expected, String::new())
    );
}

#[test]
fn config_show_origins_explains_layers_and_requirement_fallbacks() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "sandbox_mode = \"danger-full-access\"\n[sandbox_workspace_write]\nwritable_roots = [\"extra\"]\n",
    );
    env.write(
        "etc/requirements.toml",
        "allowed_sandbox_modes = [\"read-only\"]\n",
    );
    let (status, out, err) = outcome(
        &env,
        &[
            "config",
            "show",
            "--origins",
            "-c",
            "features.network_proxy=true",
        ],
    );
    assert_eq!(status, 0, "{err}");
    let expected = "\
# Layers, lowest precedence first:
#   default
#   system ([ROOT]/etc/config.toml)
#   user ([ROOT]/home/.codex/config.toml)
#   session-flags (-c)
#   legacy managed_config.toml ([ROOT]/etc/managed_config.toml)

approval_policy = \"on-request\"  # from default (project trust: unknown)
chatgpt_base_url = \"https://chatgpt.com/backend-api/\"  # from default
cli_auth_credentials_store = \"file\"  # from default
project_root_markers = [\".git\"]  # from default
sandbox_mode = \"read-only\"  # from requirements ([ROOT]/etc/requirements.toml); configured \"danger-full-access\" from user ([ROOT]/home/.codex/config.toml) is not allowed

[features]
elevated_windows_sandbox = false  # from default
experimental_windows_sandbox = false  # from default
network_proxy = true  # from session-flags (-c)
use_legacy_landlock = false  # from default
use_linux_sandbox_bwrap = false  # from default

[sandbox_workspace_write]
writable_roots = [\"[ROOT]/home/.codex/extra\"]  # from user ([ROOT]/home/.codex/config.toml)

[shell_environment_policy]
ignore_default_excludes = false  # from default
inherit = \"all\"  # from default
";
    assert_eq!(out, expected);
    assert_eq!(
        err,
        "warning: Configured value for `permission_profile` is disallowed by requirements; \
         falling back to required value ReadOnly. Details: invalid value for `sandbox_mode`: \
         `DangerFullAccess` is not in the allowed set [ReadOnly] (set by \
         [ROOT]/etc/requirements.toml)\n"
    );
}

#[test]
fn config_show_lists_disabled_project_layers() {
    let env = TestEnv::new();
    env.write("work/.codex/config.toml", "model = \"from-project\"\n");
    let (status, out, _) = outcome(&env, &["config", "show", "--origins"]);
    assert_eq!(status, 0);
    assert!(
        out.contains(
            "#   project ([ROOT]/work/.codex/config.toml) [disabled: To load project-local \
             config, hooks, and exec policies, add [ROOT]/work as a trusted project in \
             [ROOT]/home/.codex/config.toml.]\n"
        ),
        "{out}"
    );
    assert!(!out.contains("from-project"), "{out}");

    env.write(
        "home/.codex/config.toml",
        &format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            env.work().display()
        ),
    );
    let (_, out, _) = outcome(&env, &["config", "show", "--origins"]);
    assert!(
        out.contains("model = \"from-project\"  # from project ([ROOT]/work/.codex/config.toml)\n"),
        "{out}"
    );
}

#[test]
fn features_list_rows() {
    let env = TestEnv::new();
    let expected = "\
elevated_windows_sandbox      removed       false
experimental_windows_sandbox  removed       false
network_proxy                 experimental  true
use_legacy_landlock           deprecated    false
use_linux_sandbox_bwrap       removed       false
";
    assert_eq!(
        outcome(&env, &["features", "list", "--enable", "network_proxy"]),
        (0, expected.to_string(), String::new())
    );
}

#[test]
fn features_list_honours_requirement_pins() {
    let env = TestEnv::new();
    env.write(
        "etc/requirements.toml",
        "[features]\nuse_legacy_landlock = true\n",
    );
    let (status, out, _) = outcome(
        &env,
        &["features", "list", "--disable", "use_legacy_landlock"],
    );
    assert_eq!(status, 0);
    assert!(
        out.contains("use_legacy_landlock           deprecated    true\n"),
        "{out}"
    );
}

#[test]
fn override_parse_errors_use_upstream_text() {
    let env = TestEnv::new();
    assert_eq!(
        outcome(&env, &["config", "show", "-c", "oops"]),
        (
            1,
            String::new(),
            "Error parsing -c overrides: Invalid override (missing '='): oops\n".to_string()
        )
    );
    assert_eq!(
        outcome(&env, &["-c", " =1", "config", "show"]),
        (
            1,
            String::new(),
            "Error parsing -c overrides: Empty key in override:  =1\n".to_string()
        )
    );
}

#[test]
fn subcommand_overrides_win_over_root_overrides() {
    let env = TestEnv::new();
    let (status, out, _) = outcome(
        &env,
        &["-c", "model=root", "config", "-c", "model=sub", "show"],
    );
    assert_eq!(status, 0);
    assert!(out.contains("model = \"sub\"\n"), "{out}");
}

#[test]
fn strict_config_points_at_unknown_key() {
    let env = TestEnv::new();
    env.write("home/.codex/config.toml", "model = \"o3\"\nfoo = 1\n");
    assert_eq!(
        outcome(&env, &["config", "show", "--strict-config"]),
        (
            1,
            String::new(),
            "error: [ROOT]/home/.codex/config.toml:2:1: unknown configuration field `foo`\n  |\n2 | foo = 1\n  | ^^^\n"
                .to_string()
        )
    );
    let (status, out, _) = outcome(&env, &["config", "show"]);
    assert_eq!(status, 0);
    assert!(
        out.contains("foo = 1\n"),
        "unknown keys are kept without --strict-config"
    );
}

#[test]
fn malformed_config_shows_code_frame() {
    let env = TestEnv::new();
    env.write("home/.codex/config.toml", "sandbox_mode = \"sometimes\"\n");
    assert_eq!(
        outcome(&env, &["config", "show"]),
        (
            1,
            String::new(),
            "error: [ROOT]/home/.codex/config.toml:1:16: invalid value `sometimes` for `sandbox_mode`: expected one of `read-only`, `workspace-write`, `danger-full-access`\n  |\n1 | sandbox_mode = \"sometimes\"\n  |                ^^^^^^^^^^^\n"
                .to_string()
        )
    );
}

#[test]
fn codex_home_must_exist() {
    let env = TestEnv::new();
    let missing = env.root().join("nope");
    let output = run(env.codex(["config", "show"]).env("CODEX_HOME", &missing));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        format!(
            "error: CODEX_HOME points to \"{}\", but that path does not exist\n",
            missing.display()
        )
    );
}

#[test]
fn profile_file_layers_over_user_config() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "model = \"base\"\napproval_policy = \"never\"\n",
    );
    env.write("home/.codex/work.config.toml", "model = \"work\"\n");
    let (status, out, _) = outcome(&env, &["config", "show", "--origins", "-p", "work"]);
    assert_eq!(status, 0);
    assert!(
        out.contains("model = \"work\"  # from user ([ROOT]/home/.codex/work.config.toml)\n"),
        "{out}"
    );
    assert!(
        out.contains("approval_policy = \"never\"  # from user ([ROOT]/home/.codex/config.toml)\n"),
        "{out}"
    );
    assert_eq!(
        outcome(&env, &["config", "show", "--profile", "a/b"]),
        (
            1,
            String::new(),
            "error: invalid --profile value `a/b`; pass a plain name such as `work`\n".to_string()
        )
    );
}

/// Regression: a requirement this build cannot enforce (sandbox or network) refuses to
/// start; other unsupported requirements are named in a warning.
#[test]
fn unenforceable_requirement_refuses_to_start() {
    let env = TestEnv::new();
    env.write(
        "etc/requirements.toml",
        "[experimental_network]\nenabled = false\n",
    );
    assert_eq!(
        outcome(&env, &["config", "show"]),
        (
            1,
            String::new(),
            "error: requirement `experimental_network` (set by [ROOT]/etc/requirements.toml) \
             constrains the sandbox or network but is not supported by this version of Codex; \
             remove it from the requirements or upgrade Codex\n"
                .to_string()
        )
    );
    env.write("etc/requirements.toml", "enforce_residency = \"us\"\n");
    let (status, _, err) = outcome(&env, &["config", "show"]);
    assert_eq!(
        (status, err),
        (
            0,
            "warning: Ignoring requirement `enforce_residency` from [ROOT]/etc/requirements.toml: \
             this version of Codex does not support it\n"
                .to_string()
        )
    );
}

/// Bearer tokens, literal header values and MCP environment values never reach the terminal (a
/// pasted `config show` must not leak them): TOML, `--origins` and `--json` all redact them and
/// keep which keys are set and where they came from.
#[test]
fn config_show_redacts_secrets_in_every_form() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        r#"model_provider = "x"
[model_providers.x]
name = "x"
base_url = "http://127.0.0.1:1/v1"
env_key = "X_API_KEY"
experimental_bearer_token = "sk-bearer-canary"
http_headers = { "X-Api" = "sk-header-canary" }
[mcp_servers.m]
command = "srv"
env = { TOKEN = "sk-env-canary" }
"#,
    );
    for args in [
        &["config", "show"][..],
        &["config", "show", "--origins"],
        &["config", "show", "--json"],
    ] {
        let (status, out, err) = outcome(&env, args);
        assert_eq!(status, 0, "{args:?}: {err}");
        for secret in ["sk-bearer-canary", "sk-header-canary", "sk-env-canary"] {
            assert!(!out.contains(secret), "{args:?} printed {secret}:\n{out}");
            assert!(!err.contains(secret), "{args:?} printed {secret}:\n{err}");
        }
        assert_eq!(out.matches("<redacted>").count(), 3, "{args:?}:\n{out}");
        assert!(out.contains("X_API_KEY") && out.contains("X-Api"), "{out}");
    }
    let (_, out, _) = outcome(&env, &["config", "show", "--origins"]);
    assert!(
        out.contains("experimental_bearer_token = \"<redacted>\"  # from user ([ROOT]/home/.codex/config.toml)"),
        "{out}"
    );
}
