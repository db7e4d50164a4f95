//! What a new user meets first (issue 10): "did you mean?" for profiles, features, config keys
//! and subcommands; access tokens checked locally before any request; honest API-key wording;
//! `--version`. Whole outputs are snapshots, temporary paths replaced by `[TMP]`.

use std::net::TcpListener;
use std::process::Output;

use crate::suite::common::{TestEnv, code, run, stderr, stdout, with_stdin};

/// Exit code, then stderr (and stdout when there is any), with the test directory as `[TMP]`.
fn report(env: &TestEnv, output: &Output) -> String {
    let mut text = format!("exit {}\n{}", code(output), stderr(output));
    let out = stdout(output);
    if !out.is_empty() {
        text.push_str("--- stdout\n");
        text.push_str(&out);
    }
    text.replace(&env.root().display().to_string(), "[TMP]")
}

#[test]
fn a_profile_name_without_its_colon_suggests_the_built_in() {
    let env = TestEnv::new();
    let output = run(env.codex(["sandbox", "-P", "workspace", "--dry-run", "--", "true"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 1
    error: default_permissions requires a `[permissions]` table: profile `workspace` is not defined; did you mean `:workspace`? (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`)
    ");
}

#[test]
fn an_undefined_profile_lists_the_defined_ones() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "default_permissions = \"dev\"\n[permissions.dev.filesystem]\n\":root\" = \"read\"\n[permissions.ci.filesystem]\n\":root\" = \"read\"\n",
    );
    let output = run(env.codex(["sandbox", "-P", "deev", "--dry-run", "--", "true"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 1
    error: default_permissions refers to undefined profile `deev`; did you mean `dev`? (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`, `ci`, `dev`)
    ");
}

#[test]
fn an_unknown_feature_suggests_the_nearest() {
    let env = TestEnv::new();
    let output = run(env.codex(["--enable", "network-proxy", "features", "list"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 1
    error: Unknown feature flag: network-proxy; did you mean `network_proxy`?

    hint: `codex features list` shows every feature
    ");
    let output = run(env.codex(["features", "list", "--disable", "zzzz"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 1
    error: Unknown feature flag: zzzz

    hint: `codex features list` shows every feature
    ");
}

#[test]
fn unknown_config_keys_warn_with_file_line_and_suggestion() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "sandbox_mod = \"read-only\"\n\n[features]\nnetwrk_proxy = true\n",
    );
    let output = run(env.codex(["-c", "aproval_policy=\"never\"", "features", "list"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 0
    warning: [TMP]/home/.codex/config.toml:1:1: unknown configuration field `sandbox_mod` is ignored; did you mean `sandbox_mode`?
    warning: [TMP]/home/.codex/config.toml:4:1: unknown configuration field `features.netwrk_proxy` is ignored; did you mean `network_proxy`?
    warning: -c/--config: unknown configuration field `aproval_policy` is ignored; did you mean `approval_policy`?
    --- stdout
    elevated_windows_sandbox      removed       false
    experimental_windows_sandbox  removed       false
    network_proxy                 experimental  false
    use_legacy_landlock           deprecated    false
    use_linux_sandbox_bwrap       removed       false
    ");
    let output = run(env.codex(["--strict-config", "config", "show"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 1
    error: [TMP]/home/.codex/config.toml:1:1: unknown configuration field `sandbox_mod`; did you mean `sandbox_mode`?
      |
    1 | sandbox_mod = \"read-only\"
      | ^^^^^^^^^^^
    ");
}

#[test]
fn a_mistyped_subcommand_gets_our_suggestion() {
    let env = TestEnv::new();
    let output = run(env.codex(["logn"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 2
    error: unrecognized subcommand 'logn'

      tip: a similar subcommand exists: 'login'

    Usage: codex [OPTIONS] <COMMAND>

    For more information, try '--help'.
    ");
    let output = run(env.codex(["-c", "model=\"x\"", "login", "stauts"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 2
    error: unrecognized subcommand 'stauts'

      tip: a similar subcommand exists: 'status'

    Usage: codex login [OPTIONS]
           codex login <COMMAND>

    For more information, try '--help'.
    ");
    let output = run(env.codex(["deploy"]));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 2
    error: unrecognized subcommand 'deploy'

    Usage: codex [OPTIONS] <COMMAND>

    For more information, try '--help'.
    ");
}

/// A listener nothing should connect to; `connections()` counts who did.
struct Tripwire(TcpListener);

impl Tripwire {
    fn new() -> Tripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Tripwire(listener)
    }

    fn url(&self) -> String {
        format!("http://{}", self.0.local_addr().unwrap())
    }

    fn connections(&self) -> usize {
        std::iter::from_fn(|| self.0.accept().ok()).count()
    }
}

fn unsigned_jwt(header: &str, claims: &str) -> String {
    let encode = |text: &str| codex_agent_identity::base64url_encode(text.as_bytes());
    format!("{}.{}.c2ln", encode(header), encode(claims))
}

#[test]
fn a_malformed_access_token_fails_locally_without_a_request() {
    let env = TestEnv::new();
    let tripwire = Tripwire::new();
    let base = format!("chatgpt_base_url=\"{}/backend-api\"", tripwire.url());
    let output = run(env
        .codex(["-c", &base, "login", "status"])
        .env("CODEX_ACCESS_TOKEN", "garbage")
        .env("CODEX_AUTHAPI_BASE_URL", tripwire.url()));
    insta::assert_snapshot!(report(&env, &output), @"
    exit 1
    Error checking login status: `CODEX_ACCESS_TOKEN` cannot be used: the access token is neither a personal access token (`at-…`) nor a JWT (`header.payload.signature`, base64url parts); fix or unset the variable
    ");

    let output = with_stdin(
        env.codex(["-c", &base, "login", "--with-access-token"]),
        "at-has spaces",
    );
    insta::assert_snapshot!(report(&env, &output), @"
    exit 1
    Reading access token from stdin...
    Error logging in with access token: the personal access token is malformed: after `at-` it needs 1 to 4096 printable ASCII characters without spaces
    ");

    let expired = unsigned_jwt(
        r#"{"alg":"RS256","kid":"k"}"#,
        r#"{"iss":"https://chatgpt.com/codex-backend/agent-identity","aud":"codex-app-server","iat":1,"exp":1000,"agent_runtime_id":"r","agent_private_key":"k","account_id":"a","chatgpt_user_id":"u","email":"","plan_type":"pro","chatgpt_account_is_fedramp":false}"#,
    );
    let output = with_stdin(
        env.codex(["-c", &base, "login", "--with-access-token"]),
        &expired,
    );
    assert_eq!(code(&output), 1);
    let message = stderr(&output);
    assert!(
        message.starts_with(
            "Reading access token from stdin...\nError logging in with access token: the access token expired "
        ) && message.ends_with("d ago; get a new token\n"),
        "{message}"
    );
    assert!(!message.contains("agent identity"), "{message}");
    assert_eq!(tripwire.connections(), 0, "no request may be made");
    assert!(!env.codex_home().join("auth.json").exists());
}

#[test]
fn api_key_login_says_the_key_is_checked_on_first_use() {
    let env = TestEnv::new();
    let output = with_stdin(env.codex(["login", "--with-api-key"]), "sk-anything\n");
    insta::assert_snapshot!(report(&env, &output), @"
    exit 0
    Reading API key from stdin...
    API key saved. Authentication is checked when you send a request.
    ");
}

#[test]
fn version_is_printed_as_upstream() {
    let env = TestEnv::new();
    let output = run(env.codex(["--version"]));
    assert_eq!(code(&output), 0);
    assert_eq!(
        stdout(&output),
        format!("codex-cli {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Hints that lead somewhere: without a usable bubblewrap, the legacy Landlock backend is offered
/// only for a profile it can run here; for a workspace profile the hint says why it cannot and
/// what would run.
#[test]
fn without_bubblewrap_the_hint_offers_only_what_can_run_the_profile() {
    let env = TestEnv::new();
    let unusable = "linux_sandbox.bwrap_path=/nonexistent";
    let output = run(env.codex(["sandbox", "-c", unusable, "--", "true"]));
    assert_eq!(code(&output), 1);
    let err = stderr(&output);
    assert!(
        err.starts_with(
            "error: cannot build the sandbox: refusing to run bubblewrap at `/nonexistent`: "
        ),
        "{err}"
    );
    assert!(
        err.ends_with(
            ", or opt into the legacy Landlock backend with `-c use_legacy_landlock=true`\n"
        ),
        "{err}"
    );

    let output = run(env.codex(["sandbox", "-P", ":workspace", "-c", unusable, "--", "true"]));
    assert_eq!(code(&output), 1);
    let err = stderr(&output);
    assert!(
        !err.contains(", or opt into the legacy Landlock backend"),
        "{err}"
    );
    assert!(
        err.contains("; the legacy Landlock backend (`-c use_legacy_landlock=true`) cannot run this profile here either (the legacy Landlock backend cannot enforce this policy: cannot keep `"),
        "{err}"
    );
    assert!(
        err.ends_with("; a read-only profile (`-P :read-only`) would run with it\n"),
        "{err}"
    );
}

/// A project configuration skipped because the project is not trusted is named once, with the
/// table to add; after adding it, the layer loads and nothing is printed.
#[test]
fn an_untrusted_project_configuration_is_named_once_with_how_to_trust_it() {
    let env = TestEnv::new();
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(env.work())
        .status()
        .unwrap();
    assert!(init.success());
    env.write("work/.codex/config.toml", "model = \"o3\"\n");
    std::fs::create_dir_all(env.work().join("sub/.codex")).unwrap();
    env.write("work/sub/.codex/config.toml", "model = \"o4\"\n");
    let root = env.root().to_string_lossy().into_owned();
    let mut command = env.codex(["sandbox", "--", "true"]);
    command.current_dir(env.work().join("sub"));
    let output = run(command);
    assert_eq!(code(&output), 0);
    assert_eq!(
        stderr(&output).replace(&root, "[ROOT]"),
        "warning: skipping project configuration `[ROOT]/work/.codex/config.toml` and 1 more: the project is not trusted; add `[projects.\"[ROOT]/work\"]` with `trust_level = \"trusted\"` to `[ROOT]/home/.codex/config.toml` to load it\n"
    );
    env.write(
        "home/.codex/config.toml",
        &format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            env.work().display()
        ),
    );
    // Inside git, a project layer also has to be staged (the sandbox cannot stage).
    let add = std::process::Command::new("git")
        .args(["add", ".codex/config.toml", "sub/.codex/config.toml"])
        .current_dir(env.work())
        .status()
        .unwrap();
    assert!(add.success());
    let mut command = env.codex(["config", "show", "--origins"]);
    command.current_dir(env.work().join("sub"));
    let output = run(command);
    assert_eq!(stderr(&output), "");
    assert!(
        stdout(&output).contains("model = \"o4\"  # from project"),
        "{}",
        stdout(&output)
    );
}

/// Help text wraps to the terminal width (`COLUMNS` when stdout is not a terminal).
#[test]
fn help_wraps_to_the_terminal_width() {
    let env = TestEnv::new();
    for args in [&["--help"][..], &["sandbox", "--help"], &["exec", "--help"]] {
        let mut command = env.codex(args);
        command.env("COLUMNS", "60");
        let output = run(command);
        assert_eq!(code(&output), 0);
        let text = stdout(&output);
        let widest = text
            .lines()
            .map(|line| line.chars().count())
            .max()
            .unwrap_or(0);
        assert!(widest <= 60, "{args:?}: a {widest}-column line:\n{text}");
    }
}
