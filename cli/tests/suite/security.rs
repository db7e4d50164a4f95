//! End-to-end attacks through the real `codex sandbox` (bubblewrap backend, and the legacy
//! Landlock backend's refusal), as root and as uid 65534. Each attack must fail and leave no trace
//! on the host. The full per-attack matrix (with unsandboxed controls) lives in the
//! `codex-linux-sandbox` crate's integration tests; this checks the same classes through the CLI's
//! configuration → policy → plan → run path.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::common::{TestEnv, as_nobody, chown_to_nobody, code, stderr, stdout};

const NOBODY: u32 = 65534;

/// A workspace profile without `/tmp` (the test's outside directory lives there).
const PROFILE: &str = r#"default_permissions = "locked"
[permissions.locked.filesystem]
":root" = "read"
[permissions.locked.filesystem.":workspace_roots"]
"." = "write"
"**/*.env" = "none"
"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    Root,
    Nobody,
}

struct World {
    env: TestEnv,
    user: User,
    outside: PathBuf,
}

impl World {
    fn new(user: User) -> World {
        let env = TestEnv::new();
        env.write("home/.codex/config.toml", PROFILE);
        env.write(
            "home/.codex/auth.json",
            "{\"OPENAI_API_KEY\": \"sk-live-secret\"}\n",
        );
        env.write("outside/target.txt", "original\n");
        env.write("work/app/.env", "TOKEN=env-secret\n");
        env.write("work/.agents/AGENTS.md", "be nice\n");
        let status = Command::new("git")
            .args(["init", "-q", "."])
            .current_dir(env.work())
            .status()
            .expect("git init");
        assert!(status.success());
        let outside = env.root().join("outside");
        if user == User::Nobody {
            chown_to_nobody(&env.root());
        }
        World { env, user, outside }
    }

    /// `program` without arguments, as the world's user (empty environment).
    fn as_user(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command.env_clear().stdin(std::process::Stdio::null());
        match self.user {
            User::Root => command,
            User::Nobody => as_nobody(&command),
        }
    }

    /// `codex <args>`, as the world's user.
    fn codex(&self, args: &[&str]) -> Command {
        let inner = self.env.codex(args);
        match self.user {
            User::Root => inner,
            User::Nobody => as_nobody(&inner),
        }
    }

    fn sandbox(&self, script: &str, extra: &[(&str, String)]) -> Output {
        let mut command = self.codex(&["sandbox", "--", "/bin/sh", "-c", script]);
        command
            .env("WORK", self.env.work())
            .env("OUTSIDE", &self.outside)
            .env("SECRET", self.env.codex_home().join("auth.json"));
        for (name, value) in extra {
            command.env(name, value);
        }
        command.output().expect("spawn codex")
    }

    /// Everything outside the workspace plus its protected metadata.
    fn snapshot(&self) -> Vec<(PathBuf, String)> {
        let work = self.env.work();
        let keep = |path: &Path| {
            !path.starts_with(&work)
                || [".git", ".codex", ".agents", "app/.env"]
                    .iter()
                    .any(|name| path.starts_with(work.join(name)))
        };
        let mut entries = Vec::new();
        let mut pending = vec![self.env.root()];
        while let Some(directory) = pending.pop() {
            for entry in std::fs::read_dir(&directory).unwrap().flatten() {
                let path = entry.path();
                if !keep(&path) && path != work {
                    continue;
                }
                let description = if entry.file_type().unwrap().is_dir() {
                    pending.push(path.clone());
                    "dir".to_string()
                } else {
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned()
                };
                entries.push((path, description));
            }
        }
        entries.sort();
        entries
    }
}

const ATTACKS: &[(&str, &str)] = &[
    (
        "write outside the workspace",
        r#"echo pwned > "$OUTSIDE/new.txt""#,
    ),
    (
        "overwrite through a new symlink",
        r#"ln -s "$OUTSIDE/target.txt" "$WORK/t" && echo pwned >> "$WORK/t""#,
    ),
    (
        "hard link an outside file",
        r#"ln "$OUTSIDE/target.txt" "$WORK/hl" && echo pwned >> "$WORK/hl""#,
    ),
    (
        "write .git/config",
        r#"echo '[core] fsmonitor = evil' >> "$WORK/.git/config""#,
    ),
    (
        "create a git hook",
        r#"echo evil > "$WORK/.git/hooks/pre-commit""#,
    ),
    ("rename .git away", r#"mv "$WORK/.git" "$WORK/git-moved""#),
    (
        "create .codex/config.toml",
        r#"mkdir -p "$WORK/.codex" && echo x > "$WORK/.codex/config.toml""#,
    ),
    ("write .agents", r#"echo evil > "$WORK/.agents/evil.md""#),
    ("read auth.json", r#"grep -q sk-live "$SECRET""#),
    ("read a *.env file", r#"grep -q TOKEN "$WORK/app/.env""#),
    ("nested user namespace", "unshare -U true"),
    (
        "mount a tmpfs",
        r#"mkdir -p "$WORK/m" && /usr/bin/python3 -c 'import ctypes,sys; sys.exit(0 if ctypes.CDLL(None).mount(b"none",b"m",b"tmpfs",0,None)==0 else 1)'"#,
    ),
    (
        "io_uring",
        "/usr/bin/python3 -c 'import ctypes,sys; sys.exit(0 if ctypes.CDLL(None).syscall(425,4,ctypes.create_string_buffer(120))>=0 else 1)'",
    ),
    (
        "TCP to the host loopback",
        "/usr/bin/python3 -c 'import socket,os; socket.create_connection((\"127.0.0.1\", int(os.environ[\"PORT\"])), 3)'",
    ),
    (
        "connect to a host unix socket",
        "/usr/bin/python3 -c 'import socket,os; socket.socket(socket.AF_UNIX).connect(os.environ[\"HOST_SOCK\"])'",
    ),
    (
        "read an outside process environment",
        r#"grep -q hunter2 "/proc/$VICTIM/environ""#,
    ),
    ("signal an outside process", r#"kill -0 "$VICTIM""#),
];

fn attacks_fail_without_trace(user: User) {
    codex_test_support::require_root_and_setpriv();
    let mut failures = Vec::new();
    for (name, script) in ATTACKS {
        let world = World::new(user);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let socket_path = world.env.root().join("host.sock");
        let unix = UnixListener::bind(&socket_path).unwrap();
        unix.set_nonblocking(true).unwrap();
        std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o777)).unwrap();
        let mut victim = Command::new(if user == User::Root {
            "/bin/sleep"
        } else {
            "setpriv"
        });
        if user == User::Nobody {
            victim.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                "/bin/sleep",
            ]);
        }
        let mut victim = victim
            .arg("60")
            .env_clear()
            .env("SECRET_TOKEN", "hunter2")
            .spawn()
            .unwrap();
        let before = world.snapshot();
        let output = world.sandbox(
            &format!("echo started; {script}"),
            &[
                ("PORT", listener.local_addr().unwrap().port().to_string()),
                ("HOST_SOCK", socket_path.display().to_string()),
                ("VICTIM", victim.id().to_string()),
            ],
        );
        let after = world.snapshot();
        let mut problems = Vec::new();
        if stdout(&output) != "started\n" {
            problems.push(format!(
                "sandbox did not start (stderr: {})",
                stderr(&output)
            ));
        }
        if code(&output) == 0 {
            problems.push("attack succeeded".to_string());
        }
        if before != after {
            problems.push("the host changed".to_string());
        }
        if listener.accept().is_ok() || unix.accept().is_ok() {
            problems.push("a host listener was reached".to_string());
        }
        if victim.try_wait().unwrap().is_some() {
            problems.push("the outside process died".to_string());
        }
        let _ = victim.kill();
        let _ = victim.wait();
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{user:?}:\n{}", failures.join("\n"));
}

#[test]
fn sandboxed_attacks_fail_without_trace_as_root() {
    attacks_fail_without_trace(User::Root);
}

#[test]
fn sandboxed_attacks_fail_without_trace_as_nobody() {
    attacks_fail_without_trace(User::Nobody);
}

#[test]
fn the_workspace_stays_usable() {
    codex_test_support::require_root_and_setpriv();
    for user in [User::Root, User::Nobody] {
        let world = World::new(user);
        let output = world.sandbox(
            "echo hi > \"$WORK/new.txt\" && git status --short && echo x > /dev/null && /usr/bin/python3 -c 'print(42)' | cat",
            &[],
        );
        assert_eq!(code(&output), 0, "{user:?}: {}", stderr(&output));
        assert_eq!(
            stdout(&output),
            "?? .agents/\n?? app/\n?? new.txt\n42\n",
            "{user:?}"
        );
        assert!(
            !world.env.work().join(".codex").exists(),
            "{user:?}: no .codex left behind"
        );
    }
}

#[test]
fn allowed_unix_socket_is_reachable() {
    codex_test_support::require_root_and_setpriv();
    let world = World::new(User::Root);
    let allowed = world.env.root().join("allowed.sock");
    let listener = UnixListener::bind(&allowed).unwrap();
    let other = world.env.root().join("other.sock");
    let _other = UnixListener::bind(&other).unwrap();
    let output = world
        .codex(&[
            "sandbox",
            "--allow-unix-socket",
            allowed.to_str().unwrap(),
            "--",
            "/usr/bin/python3",
            "-c",
            "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nt=socket.socket(socket.AF_UNIX)\ntry:\n    t.connect(sys.argv[2]); print('other reached')\nexcept OSError:\n    print('ok')",
            allowed.to_str().unwrap(),
            other.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        (code(&output), stdout(&output).as_str()),
        (0, "ok\n"),
        "{}",
        stderr(&output)
    );
    assert!(listener.accept().is_ok());
}

#[test]
fn legacy_landlock_refuses_what_it_cannot_enforce() {
    let world = World::new(User::Root);
    let output = world
        .codex(&[
            "sandbox",
            "-c",
            "features.use_legacy_landlock=true",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output)
            .contains("the legacy Landlock backend cannot enforce this policy: cannot keep"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn legacy_landlock_runs_read_only_profiles_and_hides_auth_json() {
    codex_test_support::require_root_and_setpriv();
    for user in [User::Root, User::Nobody] {
        let world = World::new(user);
        let secret = world.env.codex_home().join("auth.json");
        let output = world
            .codex(&[
                "sandbox",
                "-P",
                ":read-only",
                "-c",
                "features.use_legacy_landlock=true",
                "--",
                "/bin/sh",
                "-c",
                "cat \"$0\" 2>/dev/null && exit 3; cat ../outside/target.txt; echo pwned > ../outside/target.txt",
                secret.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(
            stdout(&output),
            "original\n",
            "{user:?}: {}",
            stderr(&output)
        );
        assert_ne!(code(&output), 0, "{user:?}: the write must fail");
        assert_ne!(code(&output), 3, "{user:?}: auth.json must stay unreadable");
        assert_eq!(
            std::fs::read_to_string(world.outside.join("target.txt")).unwrap(),
            "original\n"
        );
    }
}

/// A sandboxed command plants `.venv/bin/bwrap`; later runs with that directory first on PATH
/// (an activated virtualenv, from a sibling directory) or named by a project layer never execute
/// it: bubblewrap runs outside the sandbox.
#[test]
fn a_bwrap_planted_by_a_sandboxed_command_is_never_run() {
    codex_test_support::require_root_and_setpriv();
    for user in [User::Root, User::Nobody] {
        let world = World::new(user);
        let marker = world.outside.join("planted-bwrap-ran");
        let plant = format!(
            "mkdir -p .venv/bin && printf '#!/bin/sh\\necho ran > {}\\n' > .venv/bin/bwrap && chmod 755 .venv/bin/bwrap",
            marker.display()
        );
        let planted = world.env.work().join(".venv/bin/bwrap");
        let output = world
            .codex(&["sandbox", "--", "/bin/sh", "-c", &plant])
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{user:?}: {}", stderr(&output));
        // Control: run as a program, the planted file leaves its marker.
        let mut direct = world.as_user(&planted);
        assert!(direct.status().unwrap().success());
        assert!(marker.exists(), "{user:?}: the control run left no marker");
        std::fs::remove_file(&marker).unwrap();

        let sibling = world.env.root().join("sibling");
        std::fs::create_dir_all(&sibling).unwrap();
        if user == User::Nobody {
            std::os::unix::fs::chown(&sibling, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        let venv_path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            planted.parent().unwrap().display()
        );
        let output = world
            .codex(&["sandbox", "--", "/bin/sh", "-c", "echo inside"])
            .current_dir(&sibling)
            .env("PATH", &venv_path)
            .output()
            .unwrap();
        assert_eq!(
            (code(&output), stdout(&output).as_str()),
            (0, "inside\n"),
            "{user:?}: {}",
            stderr(&output)
        );
        assert!(!marker.exists(), "{user:?}: the planted bwrap ran");

        // Named by a project layer: ignored with a warning (the project is trusted and the
        // layer staged in git, so the layer itself applies).
        world.env.write(
            "work/.codex/config.toml",
            &format!("[linux_sandbox]\nbwrap_path = \"{}\"\n", planted.display()),
        );
        let staged = Command::new("git")
            .args(["-c", "safe.directory=*", "add", ".codex/config.toml"])
            .current_dir(world.env.work())
            .status()
            .unwrap();
        assert!(staged.success());
        let trusted = format!(
            "{PROFILE}\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            world.env.work().display()
        );
        world.env.write("home/.codex/config.toml", &trusted);
        if user == User::Nobody {
            chown_to_nobody(&world.env.root());
        }
        let output = world
            .codex(&["sandbox", "--", "/bin/sh", "-c", "echo inside"])
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{user:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("ignoring `linux_sandbox.bwrap_path` from project"),
            "{user:?}: {}",
            stderr(&output)
        );
        assert!(!marker.exists(), "{user:?}: the planted bwrap ran");

        // Named with `-c`: the user's choice, but never one inside a writable root.
        let output = world
            .codex(&[
                "sandbox",
                "-c",
                &format!("linux_sandbox.bwrap_path=\"{}\"", planted.display()),
                "--",
                "true",
            ])
            .output()
            .unwrap();
        assert_eq!(code(&output), 1, "{user:?}");
        assert!(
            stderr(&output).contains("refusing to run bubblewrap at"),
            "{user:?}: {}",
            stderr(&output)
        );
        assert!(!marker.exists(), "{user:?}: the planted bwrap ran");
    }
}

/// `$CODEX_HOME` inside a writable root (the workspace, or `/tmp` under `:workspace`) stays
/// hidden and where it is: it cannot be read, changed, replaced, or moved away (with its parent)
/// so that a new one takes its place.
#[test]
fn codex_home_inside_writable_roots_is_hidden_and_stays_in_place() {
    codex_test_support::require_root_and_setpriv();
    let attacks = [
        ("read the configuration", r#"cat "$CODEX_HOME/config.toml""#),
        ("list it", r#"ls "$CODEX_HOME" | grep -q config"#),
        (
            "rewrite the configuration",
            r#"echo 'sandbox_mode = "danger-full-access"' > "$CODEX_HOME/config.toml""#,
        ),
        (
            "remove it",
            r#"rm -rf "$CODEX_HOME" && ! test -e "$CODEX_HOME""#,
        ),
        (
            "move it away and plant a new one",
            r#"mv "$CODEX_HOME" "$CODEX_HOME.moved" && mkdir "$CODEX_HOME" && echo x > "$CODEX_HOME/config.toml""#,
        ),
        (
            "move its parent away and plant a new one",
            r#"p=$(dirname "$CODEX_HOME") && mv "$p" "$p.moved" && mkdir -p "$CODEX_HOME" && echo x > "$CODEX_HOME/config.toml""#,
        ),
    ];
    for user in [User::Root, User::Nobody] {
        for inside_tmp in [false, true] {
            let world = World::new(user);
            let parent = if inside_tmp {
                let dir = tempfile::Builder::new()
                    .prefix("codex-home-test-")
                    .tempdir_in("/tmp")
                    .unwrap()
                    .keep();
                dir.canonicalize().unwrap()
            } else {
                world.env.work().join("nested")
            };
            let codex_home = parent.join("codex-home");
            std::fs::create_dir_all(&codex_home).unwrap();
            std::fs::write(codex_home.join("config.toml"), "model = \"kept\"\n").unwrap();
            std::fs::write(
                codex_home.join("auth.json"),
                "{\"OPENAI_API_KEY\":\"sk-x\"}\n",
            )
            .unwrap();
            if user == User::Nobody {
                let status = Command::new("chown")
                    .args(["-R", &format!("{NOBODY}:{NOBODY}")])
                    .arg(&parent)
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            let files = |root: &Path| -> Vec<(PathBuf, String)> {
                let mut entries = Vec::new();
                for entry in std::fs::read_dir(root).unwrap().flatten() {
                    entries.push((
                        entry.path(),
                        std::fs::read_to_string(entry.path()).unwrap_or_default(),
                    ));
                }
                entries.sort();
                entries
            };
            let before = files(&codex_home);
            for (name, script) in attacks {
                // Control: without the sandbox the attack works on a scratch copy.
                let scratch = world.env.root().join("scratch/codex-home");
                std::fs::create_dir_all(&scratch).unwrap();
                std::fs::write(scratch.join("config.toml"), "model = \"kept\"\n").unwrap();
                if user == User::Nobody {
                    std::os::unix::fs::chown(&scratch, Some(NOBODY), Some(NOBODY)).unwrap();
                    std::os::unix::fs::chown(scratch.parent().unwrap(), Some(NOBODY), Some(NOBODY))
                        .unwrap();
                    std::os::unix::fs::chown(
                        scratch.join("config.toml"),
                        Some(NOBODY),
                        Some(NOBODY),
                    )
                    .unwrap();
                }
                let mut control = world.as_user(Path::new("/bin/sh"));
                control
                    .args(["-c", script])
                    .env("CODEX_HOME", &scratch)
                    .env("PATH", "/usr/bin:/bin");
                assert!(
                    control.status().unwrap().success(),
                    "{user:?} {name}: the unsandboxed control failed"
                );
                std::fs::remove_dir_all(world.env.root().join("scratch")).unwrap();

                let mut command = world.codex(&[
                    "sandbox",
                    "-P",
                    ":workspace",
                    "--",
                    "/bin/sh",
                    "-c",
                    &format!("echo started; {script}"),
                ]);
                command.env("CODEX_HOME", &codex_home);
                let output = command.output().unwrap();
                let where_ = if inside_tmp { "/tmp" } else { "workspace" };
                assert_eq!(
                    stdout(&output),
                    "started\n",
                    "{user:?} {where_} {name}: {}",
                    stderr(&output)
                );
                assert_ne!(
                    code(&output),
                    0,
                    "{user:?} {where_} {name}: attack succeeded"
                );
                assert!(codex_home.is_dir(), "{user:?} {where_} {name}: moved");
                assert_eq!(files(&codex_home), before, "{user:?} {where_} {name}");
                assert!(
                    !parent.with_extension("moved").exists()
                        && !codex_home.with_extension("moved").exists(),
                    "{user:?} {where_} {name}"
                );
            }
            if inside_tmp {
                std::fs::remove_dir_all(&parent).unwrap();
            }
        }
    }
}

/// The host's `git status` at the root must never run a configuration the sandboxed command
/// wrote: rewriting an initialized submodule's `sub/.git` to point at a crafted copy of its git
/// directory (with `core.fsmonitor`), or planting `sub/.git` for a deinitialized one, is refused.
#[test]
fn submodule_git_pointers_cannot_be_redirected() {
    codex_test_support::require_root_and_setpriv();
    let attack = r#"cp -r .git/modules/sub crafted && git config -f crafted/config --unset core.worktree; git config -f crafted/config core.fsmonitor "echo PWNED > $OUTSIDE/pwned; false" && printf 'gitdir: %s/crafted\n' "$WORK" > sub/.git"#;
    for user in [User::Root, User::Nobody] {
        for deinitialized in [false, true] {
            let label = format!("{user:?} deinitialized={deinitialized}");
            let setup = |world: &World| {
                let work = world.env.work();
                let origin = world.env.root().join("sub-origin");
                std::fs::create_dir_all(&origin).unwrap();
                let git = |directory: &Path, args: &[&str]| {
                    let status = Command::new("git")
                        .args([
                            "-c",
                            "user.name=t",
                            "-c",
                            "user.email=t@t",
                            "-c",
                            "protocol.file.allow=always",
                            "-c",
                            "safe.directory=*",
                        ])
                        .args(args)
                        .current_dir(directory)
                        .env("GIT_CONFIG_NOSYSTEM", "1")
                        .env("HOME", world.env.home())
                        .output()
                        .unwrap();
                    assert!(
                        status.status.success(),
                        "git {args:?}: {}",
                        String::from_utf8_lossy(&status.stderr)
                    );
                };
                git(&origin, &["init", "-q", "."]);
                git(&origin, &["commit", "-q", "--allow-empty", "-m", "sub"]);
                git(&work, &["submodule", "add", "-q", "../sub-origin", "sub"]);
                git(&work, &["commit", "-qm", "add sub"]);
                if deinitialized {
                    git(&work, &["submodule", "deinit", "-q", "-f", "sub"]);
                }
                if user == User::Nobody {
                    super::common::chown_to_nobody(&world.env.root());
                }
            };
            let host_git_status = |world: &World| {
                let git = ["/usr/bin/git", "/usr/local/bin/git"]
                    .into_iter()
                    .map(Path::new)
                    .find(|path| path.exists())
                    .expect("git is installed");
                let mut status = world.as_user(git);
                status
                    .arg("status")
                    .current_dir(world.env.work())
                    .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                    .env("HOME", world.env.home())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                let _ = status.status().unwrap();
            };
            // Control: the same commands without the sandbox make `git status` run the payload.
            let control = World::new(user);
            setup(&control);
            let mut direct = control.as_user(Path::new("/bin/sh"));
            direct
                .args(["-c", attack])
                .current_dir(control.env.work())
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .env("HOME", control.env.home())
                .env("WORK", control.env.work())
                .env("OUTSIDE", &control.outside);
            assert!(
                direct.status().unwrap().success(),
                "{label}: control attack"
            );
            host_git_status(&control);
            assert!(
                control.outside.join("pwned").exists(),
                "{label}: the control did not reach the payload"
            );

            let world = World::new(user);
            setup(&world);
            let before = world.snapshot();
            let output = world.sandbox(attack, &[]);
            assert_ne!(code(&output), 0, "{label}: the attack succeeded");
            let after = world.snapshot();
            let changed: Vec<&PathBuf> = after
                .iter()
                .filter(|entry| !before.contains(entry))
                .map(|(path, _)| path)
                .collect();
            assert!(changed.is_empty(), "{label}: the host changed: {changed:?}");
            host_git_status(&world);
            assert!(
                !world.outside.join("pwned").exists(),
                "{label}: the host's git ran the planted configuration"
            );
            let pointer = world.env.work().join("sub/.git");
            if deinitialized {
                assert!(
                    !pointer.exists(),
                    "{label}: sub/.git was planted or left behind"
                );
            } else {
                assert_eq!(
                    std::fs::read_to_string(&pointer).unwrap(),
                    "gitdir: ../.git/modules/sub\n"
                );
            }
        }
    }
}

/// A sandboxed command writes `sub/.codex/config.toml` asking for full access; a later run from
/// `sub/` in the trusted project does not load it (git does not track it), and says how to vouch
/// for it. Staging it (what the user, not the sandbox, can do) is what makes it apply.
#[test]
fn a_project_layer_written_by_a_sandboxed_command_never_widens_a_later_run() {
    codex_test_support::require_root_and_setpriv();
    for user in [User::Root, User::Nobody] {
        let world = World::new(user);
        let trusted = format!(
            "{PROFILE}\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            world.env.work().display()
        );
        world.env.write("home/.codex/config.toml", &trusted);
        if user == User::Nobody {
            super::common::chown_to_nobody(&world.env.root());
        }
        let plant = "mkdir -p sub/.codex && printf 'default_permissions = \":danger-full-access\"\\n' > sub/.codex/config.toml";
        let output = world
            .codex(&["sandbox", "--", "/bin/sh", "-c", plant])
            .output()
            .unwrap();
        assert_eq!(code(&output), 0, "{user:?}: {}", stderr(&output));
        let planted = world.env.work().join("sub/.codex/config.toml");
        assert!(planted.exists());

        let later = |world: &World| {
            world
                .codex(&["sandbox", "--dry-run", "--", "true"])
                .current_dir(world.env.work().join("sub"))
                .output()
                .unwrap()
        };
        let output = later(&world);
        assert_eq!(code(&output), 0, "{user:?}: {}", stderr(&output));
        let plan: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert!(
            !plan["summary"]
                .as_str()
                .unwrap()
                .contains("danger-full-access"),
            "{user:?}: {plan}"
        );
        assert_eq!(
            stderr(&output),
            format!(
                "warning: skipping project configuration `{}`: git does not track it, so a sandboxed command could have written it; review it, then `git add sub/.codex/config.toml` (a sandboxed command cannot stage or commit) to use it\n",
                planted.display()
            ),
            "{user:?}"
        );

        // Control: once staged by the user, the same layer applies.
        let staged = Command::new("git")
            .args(["-c", "safe.directory=*", "add", "sub/.codex/config.toml"])
            .current_dir(world.env.work())
            .status()
            .unwrap();
        assert!(staged.success());
        let output = later(&world);
        let plan: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert!(
            plan["summary"]
                .as_str()
                .unwrap()
                .contains("danger-full-access"),
            "{user:?}: {plan} {}",
            stderr(&output)
        );
    }
}
