//! What must keep working inside the sandbox, for both backends and both users.

use codex_sandbox_policy::NetworkAccess;

use super::harness::{Backend, Fixture, HostServices, User, is_root};

const CHECKS: &[(&str, &str, &str)] = &[
    (
        "git status",
        "git status --short >/dev/null && git log --oneline | wc -l",
        "1\n",
    ),
    ("python3", "/usr/bin/python3 -c 'print(6 * 7)'", "42\n"),
    ("pipes", "echo abc | tr a b | cat", "bbc\n"),
    (
        "/dev/null and /dev/zero",
        "echo x > /dev/null && head -c 3 /dev/zero | wc -c",
        "3\n",
    ),
    (
        "writable TMPDIR",
        "f=$(mktemp) && echo tmp-ok > \"$f\" && cat \"$f\"",
        "tmp-ok\n",
    ),
    (
        "write in the workspace",
        "echo hello > \"$WORK/created.txt\" && cat \"$WORK/created.txt\"",
        "hello\n",
    ),
    (
        "network-disabled marker",
        "echo \"$CODEX_SANDBOX_NETWORK_DISABLED\"",
        "1\n",
    ),
    (
        "socketpair IPC",
        "/usr/bin/python3 -c 'import socket\na,b=socket.socketpair()\na.send(b\"ping\")\nprint(b.recv(4).decode())\na.shutdown(socket.SHUT_WR)'",
        "ping\n",
    ),
    (
        "no capabilities",
        "grep -E '^Cap(Eff|Prm)' /proc/self/status | awk '{print $2}' | sort -u",
        "0000000000000000\n",
    ),
    (
        "no_new_privs",
        "grep '^NoNewPrivs' /proc/self/status | awk '{print $2}'",
        "1\n",
    ),
    (
        "files next to the hidden CODEX_HOME stay readable",
        "cat \"$HOME/.codex/config.toml\" 2>/dev/null; cat \"$HOME/readable.txt\"",
        "readable\n",
    ),
];

/// Checks that need a writable area (the Landlock backend only runs read-only policies).
const NEEDS_WRITES: &[&str] = &["writable TMPDIR", "write in the workspace"];

/// What a read-only policy must refuse while everything else keeps working.
const READ_ONLY_CHECKS: &[(&str, &str, &str)] = &[(
    "writes are refused",
    "echo x > \"$WORK/created.txt\" 2>/dev/null || echo refused; test -e \"$WORK/created.txt\" || echo absent",
    "refused\nabsent\n",
)];

fn check_everything(backend: Backend, user: User) {
    if user == User::Nobody && !is_root() {
        return;
    }
    let mut failures = Vec::new();
    let checks = CHECKS
        .iter()
        .filter(|(name, _, _)| backend == Backend::Bubblewrap || !NEEDS_WRITES.contains(name))
        .chain(
            READ_ONLY_CHECKS
                .iter()
                .filter(|_| backend == Backend::Landlock),
        );
    for (name, script, expected) in checks {
        let fixture = Fixture::new(user);
        let policy = fixture.policy_for(backend, NetworkAccess::Restricted);
        let output = fixture.helper(backend, &policy, script, &[]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() || stdout != *expected {
            failures.push(format!(
                "{name}: status {:?}, stdout {stdout:?}, stderr {:?}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if name.starts_with("write in the workspace") {
            assert_eq!(
                std::fs::read_to_string(fixture.work.join("created.txt")).unwrap(),
                "hello\n"
            );
        }
        if backend == Backend::Bubblewrap {
            assert!(
                !fixture.work.join(".codex").exists(),
                "{name}: the .codex mount point was left behind"
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{backend:?} as {user:?}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn bubblewrap_keeps_tools_working_as_root() {
    check_everything(Backend::Bubblewrap, User::Root);
}

#[test]
fn bubblewrap_keeps_tools_working_as_nobody() {
    check_everything(Backend::Bubblewrap, User::Nobody);
}

#[test]
fn landlock_keeps_tools_working_as_root() {
    check_everything(Backend::Landlock, User::Root);
}

#[test]
fn landlock_keeps_tools_working_as_nobody() {
    check_everything(Backend::Landlock, User::Nobody);
}

#[test]
fn allowed_unix_socket_is_reachable_and_only_it() {
    for user in [User::Root, User::Nobody] {
        if user == User::Nobody && !is_root() {
            continue;
        }
        let fixture = Fixture::new(user);
        let services = HostServices::start(&fixture);
        let mut policy = fixture.workspace_policy(NetworkAccess::Restricted);
        policy.unix_sockets = vec![services.allowed_path.clone()];
        let script = "/usr/bin/python3 -c 'import socket,os\ns=socket.socket(socket.AF_UNIX)\ns.connect(os.environ[\"ALLOWED_SOCK\"])\nprint(\"allowed-ok\")\nt=socket.socket(socket.AF_UNIX)\ntry:\n    t.connect(os.environ[\"HOST_SOCK\"])\n    print(\"other-reached\")\nexcept OSError as e:\n    print(\"other-blocked\")\nu=socket.socket(socket.AF_INET)\n'";
        let output = fixture.helper(Backend::Bubblewrap, &policy, script, &services.env());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            stdout,
            "allowed-ok\nother-blocked\n",
            "{user:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !output.status.success(),
            "AF_INET socket creation must still fail"
        );
        assert!(
            services.allowed_accepted(),
            "{user:?}: the allowed listener saw the connection"
        );
        assert!(services.saw_traffic().is_empty());
    }
}

#[test]
fn exit_codes_and_signals_pass_through() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    for backend in [Backend::Bubblewrap, Backend::Landlock] {
        let policy = match backend {
            Backend::Bubblewrap => policy.clone(),
            Backend::Landlock => fixture.read_only_policy(NetworkAccess::Restricted),
        };
        assert_eq!(
            fixture
                .helper(backend, &policy, "exit 42", &[])
                .status
                .code(),
            Some(42)
        );
        assert_eq!(
            fixture
                .helper(backend, &policy, "kill -9 $$", &[])
                .status
                .code(),
            Some(137)
        );
        let missing = fixture.helper(backend, &policy, "exec definitely-not-a-command-xyz", &[]);
        assert_eq!(missing.status.code(), Some(127));
    }
}

#[test]
fn missing_command_is_reported_as_not_found() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
    let output = fixture
        .as_user(
            helper,
            &[
                "--policy".into(),
                policy.to_json().into(),
                "--cwd".into(),
                fixture.work.clone().into(),
                "--".into(),
                "definitely-not-a-command-xyz".into(),
            ],
        )
        .envs(fixture.env())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.ends_with("error: command not found: `definitely-not-a-command-xyz`\n\nhint: check the spelling and that the command is on PATH\n"), "{stderr}");
}
