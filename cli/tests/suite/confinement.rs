//! Configuration-side confinement through the real binary: what the policy compiled from the
//! configuration makes writable, where `CODEX_HOME` and trust are looked up, and which
//! environment variables a sandboxed command sees. Each attack runs with a control that shows
//! the mechanism works where it is allowed, as root and as uid 65534.

use std::path::Path;
use std::process::{Command, Output};

use super::common::{TestEnv, as_nobody, chown_to_nobody, code, stderr, stdout};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    Root,
    Nobody,
}

/// The user the tests run as must be root (so the uid 65534 half is real), and `setpriv` must
/// exist: otherwise the nobody tests would not test what they claim.
#[test]
fn canary_root_and_setpriv_are_available() {
    codex_test_support::require_root_and_setpriv();
}

fn prepare(env: &TestEnv, user: User) {
    if user == User::Nobody {
        chown_to_nobody(&env.root());
    }
}

fn run_as(user: User, command: Command) -> Output {
    let mut command = match user {
        User::Root => command,
        User::Nobody => as_nobody(&command),
    };
    command.output().expect("spawn codex")
}

/// `/tmp` and `$TMPDIR` are left out: the test tree lives under `/tmp`, and the point is what
/// the working directory alone grants.
const NO_TMP: [&str; 4] = [
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
    "-c",
    "sandbox_workspace_write.exclude_tmpdir_env_var=true",
];

fn plant_bashrc(env: &TestEnv, cwd: &Path, extra: &[String]) -> Command {
    let mut args: Vec<String> = vec![
        "sandbox".into(),
        "-c".into(),
        "sandbox_mode=workspace-write".into(),
    ];
    args.extend(NO_TMP.iter().map(|arg| arg.to_string()));
    args.extend(extra.iter().cloned());
    args.extend(
        ["--", "/bin/sh", "-c", "echo planted >> \"$HOME/.bashrc\""]
            .iter()
            .map(|arg| arg.to_string()),
    );
    let mut command = env.codex(&args);
    command.current_dir(cwd);
    command
}

/// Red-team finding: `workspace-write` started in `~` made the whole home writable (the cwd is
/// the implicit workspace root), so a sandboxed command planted `~/.bashrc` for the next host
/// shell. Refused with a hint; naming the home as a writable root stays the user's choice (the
/// control: then the write works, so the refusal is what stopped it).
fn workspace_write_in_home_is_refused(user: User) {
    let env = TestEnv::new();
    prepare(&env, user);
    let home = env.home();
    let bashrc = home.join(".bashrc");

    let output = run_as(user, plant_bashrc(&env, &home, &[]));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let expected = format!(
        "error: refusing to make the working directory `{}` writable: it is the filesystem root or contains a home directory, so a sandboxed command could plant code in files such as `~/.bashrc` that the next shell runs\n\nhint: run codex from a project directory (`--cd <dir>`), or name the directory as a writable root (`--add-dir`, `writable_roots`, or a `[permissions]` profile entry) if you really mean it\n",
        home.display()
    );
    assert_eq!(stderr(&output), expected);
    assert_eq!(stdout(&output), "");
    assert!(!bashrc.exists(), "nothing ran");

    // `-P :workspace --cd ~` from the project, and an ancestor of the home, are refused the
    // same way.
    let cd = [
        "-P".to_string(),
        ":workspace".to_string(),
        "--cd".to_string(),
        home.display().to_string(),
    ];
    let output = run_as(user, plant_bashrc(&env, &env.work(), &cd));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(stderr(&output), expected);
    let output = run_as(user, plant_bashrc(&env, &env.root(), &[]));
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("`{}`", env.root().display())),
        "{}",
        stderr(&output)
    );
    assert!(!bashrc.exists());

    // From a project directory, the home stays read-only: the attack fails inside the sandbox.
    let output = run_as(user, plant_bashrc(&env, &env.work(), &[]));
    assert_ne!(code(&output), 0, "{}", stderr(&output));
    assert!(!bashrc.exists(), "the home is not writable from a project");

    // Control: the home named explicitly as a writable root is the user's choice, and then the
    // write lands, so the refusal above is what kept `~/.bashrc` clean.
    let named = [
        "-c".to_string(),
        format!(
            "sandbox_workspace_write.writable_roots=[\"{}\"]",
            home.display()
        ),
    ];
    let output = run_as(user, plant_bashrc(&env, &home, &named));
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), "planted\n");
}

#[test]
fn workspace_write_in_home_is_refused_as_root() {
    workspace_write_in_home_is_refused(User::Root);
}

#[test]
fn workspace_write_in_home_is_refused_as_nobody() {
    workspace_write_in_home_is_refused(User::Nobody);
}

/// The refusal belongs to commands that run something: with `sandbox_mode = "workspace-write"`
/// in `config.toml`, `codex login status`, `codex config show` and `codex features list` still
/// work in `~` (the show names what a run would refuse), and `codex sandbox` there runs its
/// read-only legacy fallback; asking it for workspace-write is refused.
#[test]
fn the_refusal_stops_runs_not_commands_that_run_nothing() {
    let env = TestEnv::new();
    let home = env.home();
    std::fs::write(
        env.codex_home().join("config.toml"),
        "sandbox_mode = \"workspace-write\"\n",
    )
    .unwrap();
    let refusal = format!(
        "refusing to make the working directory `{}` writable",
        home.display()
    );
    let in_home = |args: &[&str]| {
        let mut command = env.codex(args);
        command.current_dir(&home);
        command.output().unwrap()
    };

    let output = in_home(&["login", "status"]);
    assert!(!stderr(&output).contains(&refusal), "{}", stderr(&output));
    assert_eq!(stderr(&output), "Not logged in\n");

    let output = in_home(&["features", "list"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let output = in_home(&["config", "show"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("sandbox_mode = \"workspace-write\""),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        stderr(&output),
        format!(
            "note: a command run with this configuration here is refused: {refusal}: it is the filesystem root or contains a home directory, so a sandboxed command could plant code in files such as `~/.bashrc` that the next shell runs\n"
        )
    );

    let output = in_home(&["sandbox", "--", "/bin/sh", "-c", "echo ran"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "ran\n");

    let output = in_home(&[
        "sandbox",
        "-c",
        "sandbox_mode=workspace-write",
        "--",
        "/bin/sh",
        "-c",
        "echo ran",
    ]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains(&refusal), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
}

/// `codex exec -s workspace-write` compiles the same policy: refused in `~` before anything is
/// sent to a model; read-only there gets past the configuration (and fails later for want of
/// credentials, which is not this refusal).
#[test]
fn exec_workspace_write_in_home_is_refused() {
    let env = TestEnv::new();
    let home = env.home();
    let mut command = env.codex([
        "exec",
        "--skip-git-repo-check",
        "-s",
        "workspace-write",
        "write to ~/.bashrc",
    ]);
    command.current_dir(&home);
    let output = run_as(User::Root, command);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "refusing to make the working directory `{}` writable",
            home.display()
        )),
        "{}",
        stderr(&output)
    );
    let mut command = env.codex(["exec", "--skip-git-repo-check", "-s", "read-only", "hello"]);
    command.current_dir(&home);
    let output = run_as(User::Root, command);
    assert!(
        !stderr(&output).contains("refusing to make the working directory"),
        "{}",
        stderr(&output)
    );
}

/// Red-team finding: secrets under the usual names that the `*KEY*`/`*SECRET*`/`*TOKEN*`/
/// `*PASSWORD*` excludes miss (AWS session variables, credential files, passphrases, personal
/// access tokens, the SSH agent socket) reached the sandboxed command's environment. The
/// control (`ignore_default_excludes`) shows they reach `codex` and would be passed on.
fn secrets_stay_out_of_the_sandboxed_environment(user: User) {
    let env = TestEnv::new();
    prepare(&env, user);
    let secrets = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "NPM_TOKEN",
        "GPG_PASSPHRASE",
        "AZURE_DEVOPS_EXT_PAT",
        "MYSQL_PWD",
        "SSH_AUTH_SOCK",
        "KRB5CCNAME",
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["sandbox"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "/usr/bin/env"]);
        let mut command = env.codex(&args);
        for name in secrets {
            command.env(name, format!("value-of-{name}"));
        }
        command.env("HARMLESS_SETTING", "kept");
        run_as(user, command)
    };
    let output = run(&[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let seen = stdout(&output);
    assert!(seen.contains("HARMLESS_SETTING=kept\n"), "{seen}");
    for name in secrets {
        assert!(
            !seen.contains(&format!("value-of-{name}")),
            "{name} leaked:\n{seen}"
        );
    }
    let output = run(&[
        "-c",
        "shell_environment_policy.ignore_default_excludes=true",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let seen = stdout(&output);
    for name in secrets {
        assert!(
            seen.contains(&format!("{name}=value-of-{name}\n")),
            "control: {name} missing:\n{seen}"
        );
    }
}

#[test]
fn secrets_stay_out_of_the_sandboxed_environment_as_root() {
    secrets_stay_out_of_the_sandboxed_environment(User::Root);
}

#[test]
fn secrets_stay_out_of_the_sandboxed_environment_as_nobody() {
    secrets_stay_out_of_the_sandboxed_environment(User::Nobody);
}

/// Red-team finding: `CODEX_HOME` named through a symlink inside the workspace: a sandboxed
/// command repointed the link, so the next run kept credentials (and read configuration) in a
/// directory the command controls. Refused; the control repoints the link from a sandbox whose
/// `CODEX_HOME` is spelled directly (the link itself is writable there).
fn codex_home_through_a_workspace_symlink_is_refused(user: User) {
    let env = TestEnv::new();
    let link = env.work().join("codex-link");
    std::os::unix::fs::symlink(env.codex_home(), &link).unwrap();
    std::fs::create_dir_all(env.work().join("fake")).unwrap();
    prepare(&env, user);
    let repoint = "ln -sfn \"$WORK/fake\" \"$WORK/codex-link\"";
    let sandbox = |codex_home: &Path| {
        let mut command = env.codex([
            "sandbox",
            "-c",
            "sandbox_mode=workspace-write",
            "--",
            "/bin/sh",
            "-c",
            repoint,
        ]);
        command
            .env("CODEX_HOME", codex_home)
            .env("WORK", env.work());
        run_as(user, command)
    };
    let output = sandbox(&link);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "error: `CODEX_HOME` is reached through the symlink `{}`, which a sandboxed command may write: it could repoint it, and a later run would keep credentials and read configuration elsewhere\n\nhint: set `CODEX_HOME` to the directory itself (`{}`), or move the symlink out of the writable roots\n",
            link.display(),
            env.codex_home().display()
        )
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), env.codex_home());
    // Read-only: the link cannot be changed, so it is fine.
    let mut command = env.codex(["sandbox", "--", "/bin/true"]);
    command.env("CODEX_HOME", &link);
    let output = run_as(user, command);
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    // Control: the link is writable by a workspace-write command.
    let output = sandbox(&env.codex_home());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(std::fs::read_link(&link).unwrap(), env.work().join("fake"));
}

#[test]
fn codex_home_through_a_workspace_symlink_is_refused_as_root() {
    codex_home_through_a_workspace_symlink_is_refused(User::Root);
}

#[test]
fn codex_home_through_a_workspace_symlink_is_refused_as_nobody() {
    codex_home_through_a_workspace_symlink_is_refused(User::Nobody);
}

/// A dotfiles layout: `$CODEX_HOME/config.toml` is a symlink into the workspace
/// (`dotfiles/codex/config.toml`). Hiding `$CODEX_HOME` does not cover the target, and a
/// workspace-write command appended `[linux_sandbox] bwrap_path = …` there, which the next run
/// executed on the host. The target is kept read-only (and cannot be moved away with its
/// directory); the control, with full access, shows the write otherwise lands.
fn symlinked_config_file_in_the_workspace_stays_read_only(user: User) {
    let env = TestEnv::new();
    let dotfiles = env.work().join("dotfiles/codex");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let target = dotfiles.join("config.toml");
    std::fs::write(&target, "model = \"gpt-5\"\n").unwrap();
    std::os::unix::fs::symlink(&target, env.codex_home().join("config.toml")).unwrap();
    prepare(&env, user);
    let plant = "echo '[linux_sandbox]' >> dotfiles/codex/config.toml; mv dotfiles/codex dotfiles/moved && mkdir dotfiles/codex && echo planted > dotfiles/codex/config.toml";
    let sandbox = |profile: &str| {
        let mut args = vec!["sandbox", "-P", profile];
        args.extend(NO_TMP);
        args.extend(["--", "/bin/sh", "-c", plant]);
        run_as(user, env.codex(args))
    };
    let output = sandbox(":workspace");
    assert_ne!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Read-only file system"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "model = \"gpt-5\"\n"
    );
    assert!(!env.work().join("dotfiles/moved").exists());

    // Control: full access writes it (and could swap the directory).
    let output = sandbox(":danger-full-access");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "planted\n",
        "the control replaced the directory"
    );
}

#[test]
fn symlinked_config_file_in_the_workspace_stays_read_only_as_root() {
    symlinked_config_file_in_the_workspace_stays_read_only(User::Root);
}

#[test]
fn symlinked_config_file_in_the_workspace_stays_read_only_as_nobody() {
    symlinked_config_file_in_the_workspace_stays_read_only(User::Nobody);
}

/// `auth.json` as a symlink to a file outside `CODEX_HOME`: hiding `CODEX_HOME` does not hide
/// the target. Refused; the control reads the target from a sandbox by its own path.
fn credentials_symlinked_out_of_codex_home_are_refused(user: User) {
    let env = TestEnv::new();
    let target = env.write(
        "work/creds.json",
        "{\"OPENAI_API_KEY\": \"sk-linked-secret\"}\n",
    );
    std::os::unix::fs::symlink(&target, env.codex_home().join("auth.json")).unwrap();
    prepare(&env, user);
    let read = |codex_home: &Path| {
        let mut command = env.codex(["sandbox", "--", "/bin/cat"]);
        command.arg(&target).env("CODEX_HOME", codex_home);
        run_as(user, command)
    };
    let output = read(&env.codex_home());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "error: the credentials file `{}` is a symlink to a file outside `CODEX_HOME`: the sandbox hides `CODEX_HOME`, not where the link points\n\nhint: replace the symlink with the file itself (or remove it and sign in again with `codex login`)\n",
            env.codex_home().join("auth.json").display()
        )
    );
    // Control: the target is readable from a sandbox (only the refusal kept it out).
    let other = env.root().join("other-codex-home");
    std::fs::create_dir_all(&other).unwrap();
    if user == User::Nobody {
        chown_to_nobody(&other);
    }
    let output = read(&other);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains("sk-linked-secret"));
}

#[test]
fn credentials_symlinked_out_of_codex_home_are_refused_as_root() {
    credentials_symlinked_out_of_codex_home_are_refused(User::Root);
}

#[test]
fn credentials_symlinked_out_of_codex_home_are_refused_as_nobody() {
    credentials_symlinked_out_of_codex_home_are_refused(User::Nobody);
}

/// `git` on the host with a clean global configuration (as the test's user).
fn host_git(user: User, dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new("git");
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t");
    run_as(user, command)
}

fn git_ok(user: User, dir: &Path, args: &[&str]) {
    let output = host_git(user, dir, args);
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
}

/// Red-team finding: with `core.hooksPath = .githooks` (husky-style) a sandboxed command wrote
/// `.githooks/pre-commit`, and with an independent clone in the workspace (not a submodule) it
/// set `core.fsmonitor` in the clone's `.git/config`: the host's next `git commit` / `git
/// status` ran them. Both stay read-only now; the controls show the host's git runs a hook and
/// an fsmonitor written there.
fn git_pointers_in_the_workspace_cannot_be_planted(user: User) {
    let env = TestEnv::new();
    let work = env.work();
    let marker = env.root().join("host-ran-planted-code");
    let clone = work.join("third_party/lib");
    std::fs::create_dir_all(work.join(".githooks")).unwrap();
    std::fs::create_dir_all(&clone).unwrap();
    prepare(&env, user);
    git_ok(user, &work, &["init", "-q", "."]);
    git_ok(user, &work, &["config", "core.hooksPath", ".githooks"]);
    git_ok(user, &clone, &["init", "-q", "."]);
    let plant = format!(
        "printf '#!/bin/sh\\ntouch {marker}\\n' > .githooks/pre-commit; chmod +x .githooks/pre-commit; \
         git -C third_party/lib config core.fsmonitor 'touch {marker}; false'; true",
        marker = marker.display()
    );
    let mut command = env.codex([
        "sandbox",
        "-c",
        "sandbox_mode=workspace-write",
        "--",
        "/bin/sh",
        "-c",
        &plant,
    ]);
    command.env("GIT_CONFIG_NOSYSTEM", "1");
    let output = run_as(user, command);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(!work.join(".githooks/pre-commit").exists(), "hook planted");
    let config = std::fs::read_to_string(clone.join(".git/config")).unwrap();
    assert!(!config.contains("fsmonitor"), "fsmonitor planted: {config}");
    git_ok(user, &work, &["commit", "-q", "--allow-empty", "-m", "x"]);
    git_ok(user, &clone, &["status", "--short"]);
    assert!(!marker.exists(), "the host ran planted code");

    // Controls: a hook and an fsmonitor written there do run on the host.
    std::fs::write(
        work.join(".githooks/pre-commit"),
        format!("#!/bin/sh\ntouch {}\n", marker.display()),
    )
    .unwrap();
    let status = Command::new("chmod")
        .args(["755"])
        .arg(work.join(".githooks/pre-commit"))
        .status()
        .unwrap();
    assert!(status.success());
    if user == User::Nobody {
        chown_to_nobody(&env.root());
    }
    git_ok(user, &work, &["commit", "-q", "--allow-empty", "-m", "y"]);
    assert!(marker.exists(), "control: the host's git runs the hook");
    std::fs::remove_file(&marker).unwrap();
    git_ok(
        user,
        &clone,
        &[
            "config",
            "core.fsmonitor",
            &format!("touch {}; false", marker.display()),
        ],
    );
    let _ = host_git(user, &clone, &["status", "--short"]);
    assert!(
        marker.exists(),
        "control: the host's git runs the fsmonitor"
    );
}

#[test]
fn git_pointers_in_the_workspace_cannot_be_planted_as_root() {
    git_pointers_in_the_workspace_cannot_be_planted(User::Root);
}

#[test]
fn git_pointers_in_the_workspace_cannot_be_planted_as_nobody() {
    git_pointers_in_the_workspace_cannot_be_planted(User::Nobody);
}

/// Red-team finding: the user's `~/.gitconfig` includes a file inside the workspace (a team
/// configuration checked out there, here in a directory that is not a repository yet): a
/// sandboxed command wrote `core.fsmonitor` into it, and every later `git` run on the host read
/// it. The included file stays read-only, existing or not; the control shows the host's git
/// picks up what is written there.
fn globally_included_git_configuration_cannot_be_written(user: User) {
    let env = TestEnv::new();
    let work = env.work();
    let included = work.join("team.gitconfig");
    env.write(
        "home/.gitconfig",
        &format!("[include]\n\tpath = {}\n", included.display()),
    );
    prepare(&env, user);
    let plant = "printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' > team.gitconfig; true";
    let sandbox = || {
        let mut command = env.codex([
            "sandbox",
            "-c",
            "sandbox_mode=workspace-write",
            "--",
            "/bin/sh",
            "-c",
            plant,
        ]);
        command.env_remove("GIT_CONFIG_NOSYSTEM");
        run_as(user, command)
    };
    let output = sandbox();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(!included.exists(), "the included file was created");

    // Control: without the include, the same command writes the file, and a host `git` that
    // includes it reads the planted setting.
    std::fs::remove_file(env.home().join(".gitconfig")).unwrap();
    let output = sandbox();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        included.exists(),
        "control: the file is writable without the include"
    );
    env.write(
        "home/.gitconfig",
        &format!("[include]\n\tpath = {}\n", included.display()),
    );
    let output = Command::new("git")
        .args(["config", "--get", "core.fsmonitor"])
        .current_dir(env.root())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", env.home())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "touch /tmp/pwned\n", "{}", stderr(&output));
}

#[test]
fn globally_included_git_configuration_cannot_be_written_as_root() {
    globally_included_git_configuration_cannot_be_written(User::Root);
}

#[test]
fn globally_included_git_configuration_cannot_be_written_as_nobody() {
    globally_included_git_configuration_cannot_be_written(User::Nobody);
}

/// Red-team finding: a nested repository whose `.git` is a symlink (`vendor/.git ->
/// ../gitdirs/vendor`): protecting it mounts over where it points, but the link itself is an
/// entry of a writable directory, which the command could replace by a link to a git directory
/// it wrote. Refused under workspace-write; the control shows a workspace-write command can
/// replace such a link when it is not refused (a plain link elsewhere in the workspace).
fn git_symlink_in_the_workspace_is_refused(user: User) {
    let env = TestEnv::new();
    let work = env.work();
    std::fs::create_dir_all(env.root().join("gitdirs/vendor")).unwrap();
    std::fs::create_dir_all(work.join("vendor")).unwrap();
    std::os::unix::fs::symlink(env.root().join("gitdirs/vendor"), work.join("vendor/.git"))
        .unwrap();
    std::os::unix::fs::symlink(env.root().join("gitdirs/vendor"), work.join("vendor/plain"))
        .unwrap();
    prepare(&env, user);
    let replace = |name: &str| {
        let script = format!("ln -sfn /tmp vendor/{name}");
        let command = env.codex([
            "sandbox",
            "-c",
            "sandbox_mode=workspace-write",
            "--",
            "/bin/sh",
            "-c",
            &script,
        ]);
        run_as(user, command)
    };
    let output = replace(".git");
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "error: `{}` is a symlink inside a writable root: a sandboxed command could point it at a git directory whose configuration the next `git` run would execute\n\nhint: replace the symlink with a `gitdir: <path>` file (`git init --separate-git-dir`) or move the directory it points to into place\n",
            work.join("vendor/.git").display()
        )
    );
    assert_eq!(
        std::fs::read_link(work.join("vendor/.git")).unwrap(),
        env.root().join("gitdirs/vendor")
    );
    // Control: with the `.git` link gone, the same kind of link is replaced by the command.
    std::fs::remove_file(work.join("vendor/.git")).unwrap();
    let output = replace("plain");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        std::fs::read_link(work.join("vendor/plain")).unwrap(),
        Path::new("/tmp")
    );
}

#[test]
fn git_symlink_in_the_workspace_is_refused_as_root() {
    git_symlink_in_the_workspace_is_refused(User::Root);
}

#[test]
fn git_symlink_in_the_workspace_is_refused_as_nobody() {
    git_symlink_in_the_workspace_is_refused(User::Nobody);
}
