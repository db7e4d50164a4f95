//! `codex doctor [--json]` through the real binary: the healthy machine, a broken or planted
//! bubblewrap, an untrusted project layer, a signed-in API key that never appears, and the
//! JSON shape. Whole outputs are compared with the test directory as `[TMP]` and the
//! machine-dependent parts (bubblewrap's version, sysctl values, the Landlock ABI) masked;
//! those parts are checked for their structure instead.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use serde_json::{Value, json};

use crate::suite::common::{TestEnv, code, run, stderr, stdout};

/// Replace what follows `marker` up to (not including) the first of `end` with `[MASKED]`,
/// everywhere.
fn mask_after(text: &str, marker: &str, end: &[char]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(index) = rest.find(marker) {
        let start = index + marker.len();
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let stop = tail.find(end).unwrap_or(tail.len());
        out.push_str("[MASKED]");
        rest = &tail[stop..];
    }
    out.push_str(rest);
    out
}

/// The machine-dependent parts, checked for structure, then masked.
fn masked(text: &str) -> String {
    let userns = text
        .lines()
        .find(|line| line.contains(" user namespaces "))
        .unwrap_or_else(|| panic!("no user namespaces line:\n{text}"));
    assert!(
        userns.contains("; running as root") || userns.contains("; running unprivileged"),
        "{userns}"
    );
    let text = mask_after(text, "`/usr/bin/bwrap` (bubblewrap ", &[')']);
    let text = mask_after(&text, "ABI ", &[')', ';', '\n']);
    // How the process limit holds: a pids cgroup (v1 or v2) as root, RLIMIT_NPROC otherwise.
    let text = mask_after(&text, "at most 4096 processes (", &[')']);
    mask_after(&text, "user namespaces     ", &['\n'])
}

/// Exit code, stderr (when any) and stdout, the test directory as `[TMP]`, machine parts masked.
fn report(env: &TestEnv, output: &Output) -> String {
    let mut text = format!("exit {}\n", code(output));
    let err = stderr(output);
    if !err.is_empty() {
        text.push_str(&format!("--- stderr\n{err}"));
    }
    text.push_str(&stdout(output));
    masked(&text.replace(&env.root().display().to_string(), "[TMP]"))
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", stdout(output)))
}

/// The lines of one section of the human report.
fn section(text: &str, title: &str) -> String {
    let mut lines = text.lines().skip_while(|line| *line != title);
    let mut out = String::new();
    if let Some(first) = lines.next() {
        out.push_str(first);
        out.push('\n');
    }
    for line in lines.take_while(|line| line.starts_with(' ')) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn script(env: &TestEnv, relative: &str, body: &str) -> std::path::PathBuf {
    let path = env.write(relative, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

const LANDLOCK_WORKSPACE_REFUSAL: &str = "refuses `:workspace`: cannot build the sandbox: the legacy Landlock backend cannot enforce this policy: cannot keep `/tmp/.agents` read-only inside the writable root `/tmp` (and 6 more protected paths): Landlock has no carve-outs inside a granted path";

#[test]
fn a_healthy_machine_passes_every_sandbox_check() {
    let env = TestEnv::new();
    let output = run(env.codex(["doctor"]));
    let expected = format!(
        "\
exit 0
Sandbox
  ok    bubblewrap          `/usr/bin/bwrap` (bubblewrap [MASKED]); trusted: the system location, root-owned and not writable by others
  ok    user namespaces     [MASKED]
  ok    seccomp             filters available
  ok    Landlock            ABI [MASKED]; applied inside bubblewrap as a second layer
  ok    bubblewrap backend  selected; enforces namespaces, seccomp, Landlock layer (ABI [MASKED]), at most 4096 processes ([MASKED]); runs `:read-only`, `:workspace`
  ok    landlock backend    not selected; enforces seccomp, Landlock (ABI [MASKED]), at most 4096 processes ([MASKED]); runs `:read-only`
                            {LANDLOCK_WORKSPACE_REFUSAL}
  ok    sandboxed run       `true` exited 0 under `:read-only` (bubblewrap, namespaces, seccomp, Landlock layer (ABI [MASKED]), at most 4096 processes ([MASKED]))
Configuration
  ok    system config       absent (`[TMP]/etc/config.toml`)
  ok    user config         absent (`[TMP]/home/.codex/config.toml`)
  ok    managed config      absent (`[TMP]/etc/managed_config.toml`)
  ok    requirements        absent (`[TMP]/etc/requirements.toml`)
Sign-in
  ok    credential store    file: a sign-in would be kept in `[TMP]/home/.codex/auth.json` (persists across reboots)
  warn  signed in           no
                            hint: sign in with `codex login`, or `printenv OPENAI_API_KEY | codex login --with-api-key`
  ok    model provider      `openai` (OpenAI): https://api.openai.com/v1/responses

A sandboxed command can run here.
"
    );
    assert_eq!(report(&env, &output), expected);
    let userns = stdout(&output);
    assert!(
        userns.contains(
            "  ok    user namespaces     available (bubblewrap created them); running as "
        ),
        "{userns}"
    );
}

#[test]
fn json_has_every_documented_key() {
    let env = TestEnv::new();
    let output = run(env.codex(["doctor", "--json"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let value = json_of(&output);
    let keys = |value: &Value| -> Vec<String> {
        let mut keys: Vec<String> = value
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {value}"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&value),
        ["checks", "config", "ok", "sandbox", "sign_in"]
    );
    assert_eq!(value["ok"], json!(true));
    assert_eq!(
        keys(&value["sandbox"]),
        [
            "backends",
            "bubblewrap",
            "landlock",
            "run",
            "seccomp",
            "user_namespaces"
        ]
    );
    assert_eq!(
        keys(&value["sandbox"]["bubblewrap"]),
        [
            "disable_userns",
            "error",
            "path",
            "path_entry",
            "refused",
            "setuid",
            "trusted_because",
            "version"
        ]
    );
    assert_eq!(
        value["sandbox"]["bubblewrap"]["path"],
        json!("/usr/bin/bwrap")
    );
    assert_eq!(
        value["sandbox"]["bubblewrap"]["trusted_because"],
        json!("system_location")
    );
    assert!(
        value["sandbox"]["bubblewrap"]["version"]
            .as_str()
            .is_some_and(|version| version.starts_with("bubblewrap "))
    );
    assert_eq!(
        keys(&value["sandbox"]["user_namespaces"]),
        [
            "apparmor_restrict_unprivileged_userns",
            "available",
            "blocker",
            "max_user_namespaces",
            "possible_blocker",
            "privileged",
            "unprivileged_userns_clone"
        ]
    );
    assert_eq!(
        value["sandbox"]["user_namespaces"]["available"],
        json!(true)
    );
    assert_eq!(value["sandbox"]["seccomp"], json!({"available": true}));
    assert!(
        value["sandbox"]["landlock"]["abi"]
            .as_i64()
            .is_some_and(|abi| abi >= 1)
    );
    assert_eq!(value["sandbox"]["landlock"]["layer_enabled"], json!(true));
    let backends = value["sandbox"]["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 2);
    assert_eq!(
        keys(&backends[0]),
        ["enforcement", "name", "profiles", "selected"]
    );
    assert_eq!(
        (&backends[0]["name"], &backends[0]["selected"]),
        (&json!("bubblewrap"), &json!(true))
    );
    assert_eq!(
        backends[1]["profiles"],
        json!([
            {"profile": ":read-only", "runs": true, "error": null},
            {"profile": ":workspace", "runs": false, "error": LANDLOCK_WORKSPACE_REFUSAL.trim_start_matches("refuses `:workspace`: ")},
        ])
    );
    assert_eq!(
        value["sandbox"]["run"],
        json!({"command": "true", "profile": ":read-only", "backend": "bubblewrap",
               "exit_code": 0, "ok": true, "error": null})
    );
    assert_eq!(
        keys(&value["config"]),
        ["error", "layers", "loaded", "requirements", "warnings"]
    );
    let layers = value["config"]["layers"].as_array().unwrap();
    assert_eq!(
        keys(&layers[1]),
        [
            "disabled_reason",
            "enabled",
            "exists",
            "kind",
            "name",
            "path"
        ]
    );
    assert_eq!(
        (&layers[1]["kind"], &layers[1]["exists"]),
        (&json!("system"), &json!(false))
    );
    assert_eq!(
        keys(&value["sign_in"]),
        [
            "error",
            "logged_in",
            "method",
            "model_provider",
            "save_to",
            "source",
            "store"
        ]
    );
    assert_eq!(
        value["sign_in"]["model_provider"],
        json!({"id": "openai", "name": "OpenAI", "url": "https://api.openai.com/v1/responses", "error": null})
    );
    assert_eq!(value["sign_in"]["save_to"]["location"], json!("file"));
    let ids: Vec<&str> = value["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| {
            assert_eq!(
                keys(check),
                ["hint", "id", "notes", "section", "status", "summary"]
            );
            assert!(["ok", "warn", "fail"].contains(&check["status"].as_str().unwrap()));
            check["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "bubblewrap",
            "user_namespaces",
            "seccomp",
            "landlock",
            "backend_bubblewrap",
            "backend_landlock",
            "run",
            "system_config",
            "user_config",
            "managed_config",
            "requirements",
            "credential_store",
            "signed_in",
            "model_provider"
        ]
    );
}

#[test]
fn a_missing_configured_bubblewrap_fails_with_a_hint() {
    let env = TestEnv::new();
    let output = run(env.codex(["-c", "linux_sandbox.bwrap_path=\"/nonexistent\"", "doctor"]));
    let text = report(&env, &output);
    assert_eq!(
        section(&text, "Sandbox"),
        "\
Sandbox
  fail  bubblewrap          refusing to run bubblewrap at `/nonexistent`: No such file or directory (os error 2)
                            hint: bubblewrap runs outside the sandbox, so only a root-owned copy is used; install bubblewrap with your package manager, e.g. `apt-get install bubblewrap` or `dnf install bubblewrap`, or name a binary you trust with `linux_sandbox.bwrap_path` in `$CODEX_HOME/config.toml`
  ok    user namespaces     [MASKED]
  ok    seccomp             filters available
  ok    Landlock            ABI [MASKED]; applied inside bubblewrap as a second layer
  fail  bubblewrap backend  selected
                            refuses `:read-only`: cannot build the sandbox: refusing to run bubblewrap at `/nonexistent`: No such file or directory (os error 2)
                            refuses `:workspace`: cannot build the sandbox: refusing to run bubblewrap at `/nonexistent`: No such file or directory (os error 2)
                            hint: fix the bubblewrap and user namespace checks above, or try the Landlock backend (`-c use_legacy_landlock=true`) if this report shows that it runs the profiles you need
  ok    landlock backend    not selected; enforces seccomp, Landlock (ABI [MASKED]), at most 4096 processes ([MASKED]); runs `:read-only`
                            refuses `:workspace`: cannot build the sandbox: the legacy Landlock backend cannot enforce this policy: cannot keep `/tmp/.agents` read-only inside the writable root `/tmp` (and 6 more protected paths): Landlock has no carve-outs inside a granted path
  fail  sandboxed run       `true` cannot run under `:read-only`: cannot build the sandbox: refusing to run bubblewrap at `/nonexistent`: No such file or directory (os error 2)
                            hint: bubblewrap runs outside the sandbox, so only a root-owned copy is used; install bubblewrap with your package manager, e.g. `apt-get install bubblewrap` or `dnf install bubblewrap`, or name a binary you trust with `linux_sandbox.bwrap_path` in `$CODEX_HOME/config.toml`, or opt into the legacy Landlock backend with `-c use_legacy_landlock=true`
"
    );
    assert!(text.starts_with("exit 1\nSandbox\n"), "{text}");
    assert!(
        text.ends_with("\nNo sandboxed command can run here: fix the failures above.\n"),
        "{text}"
    );
    let output = run(env.codex([
        "-c",
        "linux_sandbox.bwrap_path=\"/nonexistent\"",
        "doctor",
        "--json",
    ]));
    assert_eq!(code(&output), 1);
    let value = json_of(&output);
    assert_eq!(value["ok"], json!(false));
    assert_eq!(
        value["sandbox"]["bubblewrap"]["error"],
        json!(
            "refusing to run bubblewrap at `/nonexistent`: No such file or directory (os error 2)"
        )
    );
    assert_eq!(value["sandbox"]["bubblewrap"]["path"], Value::Null);
    assert_eq!(value["sandbox"]["run"]["ok"], json!(false));
}

/// A configured `bwrap` inside the working directory is refused; a script named by the
/// configuration elsewhere is probed from its bytes and refused as too old. Neither runs.
#[test]
fn planted_bubblewraps_are_refused_without_running() {
    let env = TestEnv::new();
    let marker = env.root().join("ran");
    let body = format!("touch {}", marker.display());
    let planted = script(&env, "work/bin/bwrap", &body);
    let option = format!("linux_sandbox.bwrap_path=\"{}\"", planted.display());
    let output = run(env.codex(["-c", &option, "doctor"]));
    let text = report(&env, &output);
    assert_eq!(
        text.lines().nth(2).unwrap(),
        "  fail  bubblewrap          refusing to run bubblewrap at `[TMP]/work/bin/bwrap`: it lies under `[TMP]/work`, which the sandboxed command may write"
    );
    assert!(text.starts_with("exit 1\n"), "{text}");

    let elsewhere = script(&env, "opt/bin/bwrap", &body);
    let option = format!("linux_sandbox.bwrap_path=\"{}\"", elsewhere.display());
    let text = report(&env, &run(env.codex(["-c", &option, "doctor"])));
    assert_eq!(
        text.lines().take(4).collect::<Vec<_>>().join("\n"),
        "\
exit 1
Sandbox
  fail  bubblewrap          bubblewrap at `[TMP]/opt/bin/bwrap` is too old: it lacks `--unshare-user`
                            hint: install bubblewrap 0.8.0 or newer"
    );

    // On PATH: `/usr/bin/bwrap` comes first, and the planted copy is named, never run.
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        env.work().join("bin").display()
    );
    let output = run(env.codex(["doctor"]).env("PATH", path));
    let text = report(&env, &output);
    assert_eq!(
        text.lines().skip(2).take(2).collect::<Vec<_>>().join("\n"),
        "  ok    bubblewrap          `/usr/bin/bwrap` (bubblewrap [MASKED]); trusted: the system location, root-owned and not writable by others
                            ignored `[TMP]/work/bin/bwrap`: it lies under `[TMP]/work`, which the sandboxed command may write"
    );
    assert_eq!(code(&output), 0, "{text}");
    assert!(!marker.exists(), "a planted bwrap was executed");
}

#[test]
fn an_untrusted_project_layer_is_shown_disabled_with_the_reason() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.work().join(".git")).unwrap();
    env.write("work/.codex/config.toml", "model = \"o3\"\n");
    env.write(
        "home/.codex/config.toml",
        "approval_policy = \"never\"\nbogus_key = 1\n",
    );
    let output = run(env.codex(["doctor"]));
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert_eq!(
        section(&report(&env, &output), "Configuration"),
        "\
Configuration
  ok    system config       absent (`[TMP]/etc/config.toml`)
  ok    user config         `[TMP]/home/.codex/config.toml`
  warn  project config      `[TMP]/work/.codex/config.toml` is not loaded: To load project-local config, hooks, and exec policies, add [TMP]/work as a trusted project in [TMP]/home/.codex/config.toml.
  ok    managed config      absent (`[TMP]/etc/managed_config.toml`)
  ok    requirements        absent (`[TMP]/etc/requirements.toml`)
  warn  warning             skipping project configuration `[TMP]/work/.codex/config.toml`: the project is not trusted; add `[projects.\"[TMP]/work\"]` with `trust_level = \"trusted\"` to `[TMP]/home/.codex/config.toml` to load it
  warn  warning             [TMP]/home/.codex/config.toml:2:1: unknown configuration field `bogus_key` is ignored
"
    );
    let value = json_of(&run(env.codex(["doctor", "--json"])));
    let project = value["config"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|layer| layer["kind"] == json!("project"))
        .unwrap()
        .clone();
    assert_eq!(project["enabled"], json!(false));
    assert_eq!(project["exists"], json!(true));
    assert!(
        project["disabled_reason"]
            .as_str()
            .unwrap()
            .starts_with("To load project-local config"),
        "{project}"
    );
}

#[test]
fn a_signed_in_api_key_shows_the_method_but_never_the_key() {
    let env = TestEnv::new();
    let key = "sk-proj-doctorSECRET1234567890ZYXWV";
    env.write(
        "home/.codex/auth.json",
        &format!(r#"{{"auth_mode":"apikey","OPENAI_API_KEY":"{key}"}}"#),
    );
    let output = run(env.codex(["doctor"]));
    assert_eq!(
        section(&report(&env, &output), "Sign-in"),
        "\
Sign-in
  ok    credential store    file: held in `[TMP]/home/.codex/auth.json` (persists across reboots)
  ok    signed in           yes: an API key (from the credential store)
  ok    model provider      `openai` (OpenAI): https://api.openai.com/v1/responses
"
    );
    let json_output = run(env.codex(["doctor", "--json"]));
    let value = json_of(&json_output);
    assert_eq!(
        (
            &value["sign_in"]["logged_in"],
            &value["sign_in"]["method"],
            &value["sign_in"]["source"]
        ),
        (&json!(true), &json!("api_key"), &json!("store"))
    );
    let from_env = run(env
        .codex(["doctor"])
        .env("CODEX_API_KEY", "sk-env-ONLYHERE98765"));
    assert!(
        stdout(&from_env)
            .contains("  ok    signed in           yes: an API key (from the environment)\n"),
        "{}",
        stdout(&from_env)
    );
    for output in [&output, &json_output, &from_env] {
        let all = format!("{}{}", stdout(output), stderr(output));
        for secret in [key, "ZYXWV", "SECRET", "sk-env-ONLYHERE98765", "98765"] {
            assert!(!all.contains(secret), "`{secret}` printed:\n{all}");
        }
    }
}

#[test]
fn the_landlock_backend_can_be_the_one_that_runs() {
    let env = TestEnv::new();
    let output = run(env.codex(["--enable", "use_legacy_landlock", "doctor"]));
    let text = report(&env, &output);
    assert!(text.starts_with("exit 0\n"), "{text}");
    let sandbox = section(&text, "Sandbox");
    let lines: Vec<&str> = sandbox.lines().collect();
    assert_eq!(
        lines[5..].join("\n"),
        format!(
            "  ok    landlock backend    selected; enforces seccomp, Landlock (ABI [MASKED]), at most 4096 processes ([MASKED]); runs `:read-only`
                            {LANDLOCK_WORKSPACE_REFUSAL}
  ok    bubblewrap backend  not selected; enforces namespaces, seccomp, Landlock layer (ABI [MASKED]), at most 4096 processes ([MASKED]); runs `:read-only`, `:workspace`
  ok    sandboxed run       `true` exited 0 under `:read-only` (landlock, seccomp, Landlock (ABI [MASKED]), at most 4096 processes ([MASKED]))"
        )
    );
}

#[test]
fn a_broken_configuration_fails_and_says_where() {
    let env = TestEnv::new();
    env.write("home/.codex/config.toml", "approval_policy = \n");
    let output = run(env.codex(["doctor"]));
    let text = report(&env, &output);
    assert!(text.starts_with("exit 1\n"), "{text}");
    let configuration = section(&text, "Configuration");
    assert!(
        configuration.starts_with("Configuration\n  fail  configuration       cannot be loaded: "),
        "{configuration}"
    );
    assert!(
        configuration.contains("[TMP]/home/.codex/config.toml"),
        "{configuration}"
    );
    assert!(
        configuration
            .contains("hint: fix the file named above; `codex config show` prints the same error"),
        "{configuration}"
    );
    let value = json_of(&run(env.codex(["doctor", "--json"])));
    assert_eq!(value["config"]["loaded"], json!(false));
    assert_eq!(value["sandbox"]["run"], Value::Null);
    assert_eq!(value["sign_in"]["logged_in"], Value::Null);
}

#[test]
fn each_backend_plans_the_configured_profile_too() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "default_permissions = \"dev\"\n[permissions.dev]\nextends = \":workspace\"\n[permissions.dev.filesystem]\n\"~/.ssh\" = \"deny\"\n",
    );
    let output = run(env.codex(["doctor"]));
    let text = report(&env, &output);
    assert!(
        text.contains("  ok    bubblewrap backend  selected; enforces namespaces, seccomp, Landlock layer (ABI [MASKED]), at most 4096 processes ([MASKED]); runs `:read-only`, `:workspace`, `dev` (configured)\n"),
        "{text}"
    );
    assert!(
        text.contains("\n                            refuses `dev` (configured): cannot build the sandbox: the legacy Landlock backend cannot enforce this policy: "),
        "{text}"
    );
    let value = json_of(&run(env.codex(["doctor", "--json"])));
    assert_eq!(
        value["sandbox"]["backends"][0]["profiles"][2],
        json!({"profile": "dev", "runs": true, "error": null})
    );
}

/// As uid 65534 the same checks pass; only the user-namespace line says who runs.
#[test]
fn an_unprivileged_user_passes_too() {
    use crate::suite::common::{as_nobody, chown_to_nobody};
    codex_test_support::require_root_and_setpriv();
    let env = TestEnv::new();
    chown_to_nobody(&env.root());
    let output = run(as_nobody(&env.codex(["doctor"])));
    let text = report(&env, &output);
    assert!(text.starts_with("exit 0\nSandbox\n"), "{text}");
    assert!(
        stdout(&output).contains(
            "  ok    user namespaces     available (bubblewrap created them); running unprivileged"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("\nA sandboxed command can run here.\n"),
        "{text}"
    );
}
