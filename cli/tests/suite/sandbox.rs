//! `codex sandbox`: command line, configuration resolution, dry-run plans, exit codes.
//! (Attack tests live in `security.rs`.)

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use super::common::{TestEnv, code, run, stderr, stdout};

fn dry_run(env: &TestEnv, args: &[&str]) -> Value {
    let output = run(env.codex(args));
    assert_eq!(code(&output), 0, "stderr: {}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "one JSON line expected: {text}");
    serde_json::from_str(&text).expect("dry-run prints JSON")
}

fn summary(plan: &Value) -> String {
    plan["summary"].as_str().unwrap_or_default().to_string()
}

#[test]
fn dry_run_prints_the_exact_plan_and_runs_nothing() {
    let env = TestEnv::new();
    let marker = env.work().join("marker");
    let plan = dry_run(
        &env,
        &[
            "sandbox",
            "--dry-run",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ],
    );
    assert_eq!(plan["backend"], "bubblewrap");
    let program = plan["program"].as_str().unwrap();
    assert!(program.ends_with("/bwrap"), "{program}");
    let argv: Vec<&str> = plan["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap())
        .collect();
    assert_eq!(argv[argv.len() - 2..], ["touch", marker.to_str().unwrap()]);
    assert!(argv.contains(&"--unshare-net"), "{argv:?}");
    assert_eq!(
        plan["env"],
        serde_json::json!({"CODEX_SANDBOX_NETWORK_DISABLED": "1"})
    );
    assert!(summary(&plan).starts_with("read-only"), "{plan}");
    assert!(!marker.exists(), "dry-run must not run the command");
}

#[test]
fn legacy_config_runs_read_only_unless_sandbox_mode_is_overridden() {
    let env = TestEnv::new();
    env.write(
        "home/.codex/config.toml",
        "sandbox_mode = \"workspace-write\"\n",
    );
    let plan = dry_run(&env, &["sandbox", "--dry-run", "--", "true"]);
    assert!(summary(&plan).starts_with("read-only"), "{plan}");

    let plan = dry_run(
        &env,
        &[
            "sandbox",
            "-c",
            "sandbox_mode=workspace-write",
            "--dry-run",
            "--",
            "true",
        ],
    );
    assert!(summary(&plan).starts_with("workspace-write"), "{plan}");

    // Root-level -c works the same way.
    let plan = dry_run(
        &env,
        &[
            "-c",
            "sandbox_mode=workspace-write",
            "sandbox",
            "--dry-run",
            "--",
            "true",
        ],
    );
    assert!(summary(&plan).starts_with("workspace-write"), "{plan}");
}

/// Why is my sandbox read-only? `codex sandbox` says it once on stderr, with what to do, and
/// `config show --origins` marks the value that `codex sandbox` does not follow.
#[test]
fn an_ignored_legacy_sandbox_mode_is_explained() {
    let env = TestEnv::new();
    let user = env.write(
        "home/.codex/config.toml",
        "sandbox_mode = \"workspace-write\"\n",
    );
    let output = run(env.codex(["sandbox", "--dry-run", "--", "true"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "note: `sandbox_mode = \"workspace-write\"` from user ({}) does not apply to `codex sandbox`, which runs read-only; pass `-c sandbox_mode=workspace-write` or a permission profile with `-P` to choose\n",
            user.display()
        )
    );
    // Chosen on the command line: nothing to explain.
    let output = run(env.codex([
        "sandbox",
        "-c",
        "sandbox_mode=workspace-write",
        "--dry-run",
        "--",
        "true",
    ]));
    assert_eq!(stderr(&output), "");

    let output = run(env.codex(["config", "show", "--origins"]));
    assert!(
        stdout(&output).contains(&format!(
            "sandbox_mode = \"workspace-write\"  # from user ({}); `codex sandbox` ignores it (runs read-only unless `-c sandbox_mode=…` or `-P`)\n",
            user.display()
        )),
        "{}",
        stdout(&output)
    );
}

#[test]
fn full_auto_is_ignored_when_sandbox_mode_is_given() {
    let env = TestEnv::new();
    let output = run(env.codex([
        "sandbox",
        "--full-auto",
        "-c",
        "sandbox_mode=read-only",
        "--dry-run",
        "--",
        "true",
    ]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let plan: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(summary(&plan).starts_with("read-only"), "{plan}");
    assert_eq!(
        stderr(&output),
        "warning: `--full-auto` is ignored because `-c sandbox_mode` was given\n"
    );
}

#[test]
fn full_auto_means_workspace_write_for_legacy_configs_and_is_refused_for_profiles() {
    let env = TestEnv::new();
    let output = run(env.codex(["sandbox", "--full-auto", "--dry-run", "--", "true"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let plan: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(summary(&plan).starts_with("workspace-write"), "{plan}");
    assert_eq!(
        stderr(&output),
        "warning: `--full-auto` is deprecated; use `-c sandbox_mode=workspace-write` instead\n"
    );

    env.write(
        "home/.codex/config.toml",
        "default_permissions = \":workspace\"\n",
    );
    let output = run(env.codex(["sandbox", "--full-auto", "--dry-run", "--", "true"]));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "error: `codex sandbox --full-auto` is only supported for legacy `sandbox_mode` configs; \
         choose a writable `[permissions]` profile instead\n"
    );
}

#[test]
fn permission_profile_flag_selects_builtin_and_named_profiles() {
    let env = TestEnv::new();
    let plan = dry_run(
        &env,
        &["sandbox", "-P", ":workspace", "--dry-run", "--", "true"],
    );
    assert!(!summary(&plan).starts_with("read-only"), "{plan}");
    let argv = plan["argv"].to_string();
    assert!(
        argv.contains(&format!("\"{}\"", env.work().display())),
        "{argv}"
    );

    env.write(
        "home/.codex/config.toml",
        "[permissions.net]\nextends = \":read-only\"\n[permissions.net.network]\nenabled = true\n",
    );
    let plan = dry_run(
        &env,
        &[
            "sandbox",
            "--permissions-profile",
            "net",
            "--dry-run",
            "--",
            "true",
        ],
    );
    assert_eq!(
        plan["env"],
        serde_json::json!({}),
        "network enabled: {plan}"
    );
    assert!(
        !plan["argv"].to_string().contains("--unshare-net"),
        "{plan}"
    );
}

#[test]
fn undefined_permission_profile_is_named_in_the_error() {
    let env = TestEnv::new();
    let output = run(env.codex(["sandbox", "-P", "nope", "--", "true"]));
    assert_eq!(code(&output), 1);
    let err = stderr(&output);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("nope"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn cd_and_include_managed_config_require_a_permission_profile() {
    let env = TestEnv::new();
    for flag in [
        ["-C", "."].as_slice(),
        ["--include-managed-config"].as_slice(),
    ] {
        let mut args = vec!["sandbox"];
        args.extend_from_slice(flag);
        args.extend_from_slice(&["--", "true"]);
        let output = run(env.codex(&args));
        assert_eq!(code(&output), 2, "{args:?}");
        assert!(
            stderr(&output).contains("--permission-profile <NAME>"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn cd_runs_the_command_in_that_directory() {
    let env = TestEnv::new();
    let sub = env.work().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let output = run(env.codex(["sandbox", "-P", ":read-only", "-C", "sub", "--", "pwd"]));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{}\n", sub.display()));
}

#[test]
fn exit_codes_mirror_the_child() {
    let env = TestEnv::new();
    let output = run(env.codex(["sandbox", "--", "sh", "-c", "exit 7"]));
    assert_eq!(code(&output), 7, "{}", stderr(&output));
    let output = run(env.codex(["sandbox", "--", "sh", "-c", "kill -TERM $$"]));
    assert_eq!(code(&output), 128 + 15, "{}", stderr(&output));
}

#[test]
fn signals_sent_to_codex_reach_the_command() {
    use std::io::{BufRead, BufReader};
    let env = TestEnv::new();
    let mut child = env
        .codex([
            "sandbox",
            "--",
            "sh",
            "-c",
            "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(rest, "got-term\n", "{}", stderr(&output));
    assert_eq!(code(&output), 3, "{}", stderr(&output));
}

#[test]
fn a_missing_command_exits_127_with_one_line() {
    let env = TestEnv::new();
    let output = run(env.codex(["sandbox", "--", "no-such-command-xyz", "arg"]));
    assert_eq!(code(&output), 127);
    assert_eq!(
        stderr(&output),
        "error: command not found: `no-such-command-xyz`\n"
    );
}

#[test]
fn stdio_and_sandbox_environment_reach_the_child() {
    let env = TestEnv::new();
    let mut child = env
        .codex([
            "sandbox",
            "--",
            "sh",
            "-c",
            "cat; echo \"net=$CODEX_SANDBOX_NETWORK_DISABLED\"; echo oops >&2",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "hello\nnet=1\n");
    assert_eq!(stderr(&output), "oops\n");
}

#[test]
fn override_and_feature_errors_are_reported_like_upstream() {
    let env = TestEnv::new();
    let output = run(env.codex(["sandbox", "-c", "foo", "--", "true"]));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "Error parsing -c overrides: Invalid override (missing '='): foo\n"
    );
    let output = run(env.codex(["--enable", "bogus", "sandbox", "--", "true"]));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "error: Unknown feature flag: bogus\n\nhint: `codex features list` shows every feature\n"
    );
}

#[test]
fn seatbelt_dry_run_works_on_any_os_but_running_needs_macos() {
    let env = TestEnv::new();
    for subcommand in [
        ["sandbox", "macos"],
        ["sandbox", "seatbelt"],
        ["debug", "seatbelt"],
    ] {
        let mut args = subcommand.to_vec();
        args.extend_from_slice(&["--dry-run", "--", "true"]);
        let plan = dry_run(&env, &args);
        assert_eq!(plan["backend"], "seatbelt");
        assert_eq!(plan["program"], "/usr/bin/sandbox-exec");
        assert_eq!(plan["argv"][0], "/usr/bin/sandbox-exec");
        assert_eq!(plan["argv"][1], "-p");
        assert_eq!(plan["env"]["CODEX_SANDBOX"], "seatbelt");
        assert_eq!(plan["env"]["CODEX_SANDBOX_NETWORK_DISABLED"], "1");
    }
    if cfg!(not(target_os = "macos")) {
        let output = run(env.codex(["sandbox", "macos", "--", "true"]));
        assert_eq!(code(&output), 1);
        assert!(
            stderr(&output).starts_with("error: Seatbelt sandbox is only available on macOS\n"),
            "{}",
            stderr(&output)
        );
        let output = run(env.codex(["sandbox", "windows", "--", "true"]));
        assert_eq!(code(&output), 1);
        assert_eq!(
            stderr(&output),
            "error: Windows sandbox is only available on Windows\n"
        );
    }
}

#[test]
fn explicit_linux_forms_and_the_legacy_backend() {
    let env = TestEnv::new();
    for subcommand in [
        ["sandbox", "linux"],
        ["sandbox", "landlock"],
        ["debug", "landlock"],
    ] {
        let mut args = subcommand.to_vec();
        args.extend_from_slice(&["--dry-run", "--", "true"]);
        assert_eq!(dry_run(&env, &args)["backend"], "bubblewrap");
    }
    let plan = dry_run(
        &env,
        &[
            "sandbox",
            "-c",
            "use_legacy_landlock=true",
            "--dry-run",
            "--",
            "true",
        ],
    );
    assert_eq!(plan["backend"], "landlock");
    let plan = dry_run(
        &env,
        &[
            "--enable",
            "use_legacy_landlock",
            "sandbox",
            "--dry-run",
            "--",
            "true",
        ],
    );
    assert_eq!(plan["backend"], "landlock");
}

#[test]
fn log_denials_is_refused_off_seatbelt() {
    let env = TestEnv::new();
    let output = run(env.codex(["sandbox", "linux", "--log-denials", "--", "true"]));
    assert_eq!(code(&output), 1);
    assert_eq!(
        stderr(&output),
        "error: `--log-denials` is only supported by the Seatbelt backend (macOS)\n"
    );
}

#[test]
fn allow_unix_socket_paths_become_part_of_the_policy() {
    let env = TestEnv::new();
    let plan = dry_run(
        &env,
        &[
            "sandbox",
            "macos",
            "--allow-unix-socket",
            "sock",
            "--dry-run",
            "--",
            "true",
        ],
    );
    let expected = format!("-DUNIX_SOCKET_PATH_0={}", env.work().join("sock").display());
    assert!(
        plan["argv"]
            .as_array()
            .unwrap()
            .iter()
            .any(|arg| arg == &Value::from(expected.clone())),
        "{plan}"
    );
}

#[test]
fn help_lists_only_commands_that_exist() {
    let env = TestEnv::new();
    let output = run(env.codex(["--help"]));
    assert_eq!(code(&output), 0);
    let help = stdout(&output);
    for command in [
        "sandbox",
        "login",
        "logout",
        "config",
        "features",
        "exec",
        "completion",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
    for absent in ["mcp", "app-server", "resume", "debug"] {
        assert!(
            !help
                .lines()
                .any(|line| line.trim_start().starts_with(absent)),
            "{absent} listed in:\n{help}"
        );
    }
    let output = run(env.codex(["--version"]));
    assert_eq!(code(&output), 0);
    assert_eq!(
        stdout(&output),
        format!("codex-cli {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_binary_acts_as_codex_linux_sandbox_under_that_name() {
    let env = TestEnv::new();
    let link = env.root().join("codex-linux-sandbox");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_codex"), &link).unwrap();
    let output = run(std::process::Command::new(&link)
        .arg("--help")
        .env_clear()
        .env("PATH", "/usr/bin:/bin"));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains("--policy"), "{}", stdout(&output));
}

/// The `--dry-run` summary says in words what is writable (and what stays read-only inside),
/// what is hidden and whether the network is on.
#[test]
fn the_dry_run_summary_says_what_the_command_may_do() {
    let env = TestEnv::new();
    let plan = dry_run(&env, &["sandbox", "--dry-run", "--", "true"]);
    assert_eq!(
        summary(&plan),
        "read-only: writes nothing; reads everything but 2 hidden paths [~/.codex, ~/.codex/auth.json]; network off"
    );
    let plan = dry_run(
        &env,
        &["sandbox", "-P", ":workspace", "--dry-run", "--", "true"],
    );
    assert_eq!(
        summary(&plan),
        "workspace-write: writes [cwd, /tmp] except [.agents, .codex, .git] in them; reads everything but 2 hidden paths [~/.codex, ~/.codex/auth.json]; network off"
    );
}
