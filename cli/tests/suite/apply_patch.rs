//! `codex apply-patch` and the `apply_patch` / `applypatch` arg0 spellings, through the real
//! binary; and `apply_patch` run inside `codex sandbox`, where the OS sandbox refuses writes to
//! `.git` or outside the workspace and the tree must stay as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::common::{TestEnv, code, run, stderr, stdout, with_stdin};

const ADD: &str = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n";

/// `(exit code, stdout, stderr)`.
fn outcome(output: &Output) -> (i32, String, String) {
    (code(output), stdout(output), stderr(output))
}

/// `bin/` (outside the snapshots) holding `name` → the `codex` binary.
fn link_dir(env: &TestEnv, name: &str) -> PathBuf {
    let dir = env.root().join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join(name);
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_codex"), link).unwrap();
    }
    dir
}

/// `name ARGS…` through a link named `name`, with the test environment of `env.codex`.
fn as_arg0(env: &TestEnv, name: &str, args: &[&str]) -> Command {
    let link = link_dir(env, name).join(name);
    let template = env.codex(args);
    let mut command = Command::new(link);
    command.args(args).env_clear();
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command.current_dir(env.work()).stdin(Stdio::null());
    command
}

#[test]
fn patch_from_stdin_argument_or_dash() {
    let env = TestEnv::new();
    let output = with_stdin(env.codex(["apply-patch"]), ADD);
    assert_eq!(
        outcome(&output),
        (
            0,
            "Success. Updated the following files:\nA hello.txt\n".to_string(),
            String::new()
        )
    );
    assert_eq!(
        std::fs::read_to_string(env.work().join("hello.txt")).unwrap(),
        "hello\n"
    );
    let update = "*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+bye\n*** End Patch";
    let output = run(env.codex(["apply-patch", update]));
    assert_eq!(
        outcome(&output),
        (
            0,
            "Success. Updated the following files:\nM hello.txt\n".to_string(),
            String::new()
        )
    );
    let delete = "*** Begin Patch\n*** Delete File: hello.txt\n*** End Patch";
    let output = with_stdin(env.codex(["apply-patch", "-"]), delete);
    assert_eq!(
        outcome(&output),
        (
            0,
            "Success. Updated the following files:\nD hello.txt\n".to_string(),
            String::new()
        )
    );
    assert!(!env.work().join("hello.txt").exists());
}

#[test]
fn errors_go_to_stderr_with_upstream_text_and_exit_codes() {
    let env = TestEnv::new();
    env.write("work/keep.txt", "keep\n");
    let output = run(env.codex(["apply-patch", "not a patch"]));
    assert_eq!(
        outcome(&output),
        (
            1,
            String::new(),
            "Invalid patch: The first line of the patch must be '*** Begin Patch'\n".to_string()
        )
    );
    let bad_header =
        "*** Begin Patch\n*** Add File: a\n+x\n*** Frobnicate File: keep.txt\n*** End Patch";
    let output = run(env.codex(["apply-patch", bad_header]));
    assert_eq!(
        outcome(&output),
        (
            1,
            String::new(),
            "Invalid patch hunk on line 4: '*** Frobnicate File: keep.txt' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'\n".to_string()
        )
    );
    let mismatch = "*** Begin Patch\n*** Add File: new.txt\n+x\n*** Update File: keep.txt\n@@\n-absent\n+x\n*** End Patch";
    let output = run(env.codex(["apply-patch", mismatch]));
    assert_eq!(
        outcome(&output),
        (
            1,
            String::new(),
            format!(
                "Failed to find expected lines in {}:\nabsent\n",
                env.work().join("keep.txt").display()
            )
        )
    );
    assert!(!env.work().join("new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(env.work().join("keep.txt")).unwrap(),
        "keep\n"
    );
    // Empty stdin and extra arguments are usage errors.
    let output = run(env.codex(["apply-patch"]));
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "Usage: apply_patch 'PATCH'\n       echo 'PATCH' | apply_patch\n"
    );
    let output = run(env.codex(["apply-patch", ADD, "extra"]));
    assert_eq!(code(&output), 2, "{}", stderr(&output));
}

#[test]
fn help_explains_the_format() {
    let env = TestEnv::new();
    let output = run(env.codex(["apply-patch", "--help"]));
    assert_eq!(code(&output), 0);
    let help = stdout(&output);
    for needle in [
        "*** Begin Patch",
        "*** Update File:",
        "*** Move to:",
        "@@",
        "atomically",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let output = run(env.codex(["--help"]));
    assert!(
        stdout(&output).contains("apply-patch"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_binary_acts_as_apply_patch_under_that_name() {
    let env = TestEnv::new();
    let output = run(as_arg0(&env, "apply_patch", &[ADD]));
    assert_eq!(
        outcome(&output),
        (
            0,
            "Success. Updated the following files:\nA hello.txt\n".to_string(),
            String::new()
        )
    );
    let env = TestEnv::new();
    let output = with_stdin(as_arg0(&env, "applypatch", &[]), ADD);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(env.work().join("hello.txt").exists());
    // Upstream's flag is accepted; extra arguments are not.
    let output = run(as_arg0(
        &env,
        "applypatch",
        &[
            "--preserve-crlf",
            "*** Begin Patch\n*** Delete File: hello.txt\n*** End Patch",
        ],
    ));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = run(as_arg0(&env, "applypatch", &["a", "b"]));
    assert_eq!(
        outcome(&output),
        (
            2,
            String::new(),
            "Error: apply_patch accepts exactly one PATCH argument.\n".to_string()
        )
    );
    let output = run(as_arg0(&env, "applypatch", &["--help"]));
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).contains("*** Begin Patch"));
}

/// Every entry below `root` (except the `bin/` of links) with its contents.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path == root.join("bin") {
                continue;
            }
            if path.is_dir() {
                pending.push(path.clone());
            }
            let contents = if path.is_file() {
                std::fs::read(&path).unwrap()
            } else {
                Vec::new()
            };
            files.insert(path.strip_prefix(root).unwrap().to_path_buf(), contents);
        }
    }
    files
}

/// Fail naming the entries that differ.
fn assert_same_tree(before: &BTreeMap<PathBuf, Vec<u8>>, after: &BTreeMap<PathBuf, Vec<u8>>) {
    let differing: Vec<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .collect();
    assert!(differing.is_empty(), "changed: {differing:?}");
}

/// `codex sandbox ARGS -- apply_patch PATCH` in a git repository, with `apply_patch` on PATH.
fn sandboxed(env: &TestEnv, sandbox_args: &[&str], patch: &str) -> Output {
    let bin = link_dir(env, "apply_patch");
    let mut args = vec!["sandbox"];
    args.extend_from_slice(sandbox_args);
    args.extend_from_slice(&["--", "apply_patch", patch]);
    let mut command = env.codex(args);
    command.env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    run(command)
}

fn git_repository() -> TestEnv {
    let env = TestEnv::new();
    let status = Command::new("git")
        .args(["init", "-q", "."])
        .current_dir(env.work())
        .status()
        .unwrap();
    assert!(status.success());
    env.write("work/src/lib.rs", "pub fn f() {}\n");
    env
}

#[test]
fn inside_the_sandbox_a_patch_touching_git_fails_and_changes_nothing() {
    let env = git_repository();
    link_dir(&env, "apply_patch");
    let before = tree(&env.root());
    let patch = "*** Begin Patch\n*** Add File: new.txt\n+x\n*** Update File: src/lib.rs\n@@\n-pub fn f() {}\n+pub fn g() {}\n*** Update File: .git/config\n@@\n [core]\n+\thooksPath = /tmp/evil\n*** End Patch";
    let output = sandboxed(&env, &["-P", ":workspace"], patch);
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "Failed to write file {}: Read-only file system (os error 30) (nothing was changed)\n",
            env.work().join(".git/config").display()
        )
    );
    assert_same_tree(&before, &tree(&env.root()));
    // The same sandbox lets an ordinary patch through.
    let patch = "*** Begin Patch\n*** Add File: new.txt\n+x\n*** End Patch";
    let output = sandboxed(&env, &["-P", ":workspace"], patch);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(env.work().join("new.txt")).unwrap(),
        "x\n"
    );
}

#[test]
fn inside_the_sandbox_a_patch_writing_outside_the_workspace_changes_nothing() {
    let env = git_repository();
    // `:workspace` also grants /tmp, where the test directory lives: use a profile without it.
    env.write(
        "home/.codex/config.toml",
        "[permissions.locked.filesystem]\n\":root\" = \"read\"\n[permissions.locked.filesystem.\":workspace_roots\"]\n\".\" = \"write\"\n",
    );
    env.write("outside.txt", "original\n");
    link_dir(&env, "apply_patch");
    let before = tree(&env.root());
    let patch = "*** Begin Patch\n*** Update File: src/lib.rs\n@@\n-pub fn f() {}\n+pub fn g() {}\n*** Update File: ../outside.txt\n@@\n-original\n+pwned\n*** Add File: ../created.txt\n+x\n*** End Patch";
    let output = sandboxed(&env, &["-P", "locked"], patch);
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "Failed to write file {}: Read-only file system (os error 30) (nothing was changed)\n",
            env.root().join("outside.txt").display()
        )
    );
    assert_same_tree(&before, &tree(&env.root()));
}
