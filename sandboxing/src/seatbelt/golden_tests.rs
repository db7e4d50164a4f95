//! Golden tests: the whole `sandbox-exec` invocation for typical policies, compared with the
//! files in `golden/`. Regenerate after an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p codex-sandboxing seatbelt` and review the diff.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::canonical::fake::FakeFileSystem;
use super::test_support::PolicyBuilder;
use super::{SANDBOX_EXEC_PATH, SeatbeltOptions, SeatbeltPlan, SeatbeltPlanError, plan_with};
use codex_sandbox_policy::{ProtectedKind, SandboxPolicy};

fn command() -> Vec<OsString> {
    ["/bin/sh", "-c", "echo hi > out.txt"]
        .into_iter()
        .map(OsString::from)
        .collect()
}

/// A developer machine: `/var`, `/tmp`, `/etc` link into `/private`.
fn mac() -> FakeFileSystem {
    FakeFileSystem::macos()
        .exists("/Users/dev/repo/.git")
        .exists("/Users/dev/repo/.agents")
        .exists("/Users/dev/repo/.bare/HEAD")
        .exists("/Users/dev/repo/vendor/out")
        .exists("/Users/dev/repo/secrets")
        .exists("/Users/dev/cache/.git")
        .exists("/Users/dev/docs/private/public")
        .exists("/Users/dev/.codex/auth.json")
        .exists("/private/tmp/ssh-Xb12/agent.77")
        .exists("/private/var/run/agent.sock")
        .exists("/private/var/folders/zz/x1/T")
        .exists("/private/var/folders/zz/x1/C")
        .exists("/opt/build")
}

/// The caller's environment (after `shell_environment_policy`) and working directory, without
/// the per-user cache directory.
fn options() -> SeatbeltOptions {
    SeatbeltOptions {
        extra_unix_sockets: Vec::new(),
        darwin_user_cache_dir: None,
        env: [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/Users/dev"),
            ("CODEX_SANDBOX", "spoofed"),
        ]
        .into_iter()
        .map(|(name, value)| (OsString::from(name), OsString::from(value)))
        .collect(),
        cwd: PathBuf::from("/Users/dev/repo"),
    }
}

fn cache_dir() -> SeatbeltOptions {
    SeatbeltOptions {
        darwin_user_cache_dir: Some(PathBuf::from("/var/folders/zz/x1/C/")),
        ..options()
    }
}

/// `:workspace` in `/Users/dev/repo`: `.git` is a pointer file to `.bare`, `.codex` does not
/// exist yet, `.agents` does; `/tmp` and `$TMPDIR` are writable; `auth.json` is denied.
fn workspace() -> PolicyBuilder {
    PolicyBuilder::new("/Users/dev/repo")
        .profile(":workspace")
        .read("/")
        .write("/Users/dev/repo")
        .write("/tmp")
        .write("/var/folders/zz/x1/T")
        .deny("/Users/dev/.codex/auth.json")
        .protect("/Users/dev/repo", "/Users/dev/repo/.git")
        .protect_as(
            "/Users/dev/repo",
            "/Users/dev/repo/.bare",
            ProtectedKind::GitDirTarget,
        )
        .protect("/Users/dev/repo", "/Users/dev/repo/.codex")
        .protect("/Users/dev/repo", "/Users/dev/repo/.agents")
}

fn render(plan: &SeatbeltPlan) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# program\n{}", plan.program.display());
    text.push_str("# argv (argv[2], the profile, is shown under `# profile`)\n");
    for (index, argument) in plan.argv.iter().enumerate() {
        let shown = if index == 2 {
            "<profile>".to_string()
        } else {
            argument.to_string_lossy().into_owned()
        };
        let _ = writeln!(text, "{shown}");
    }
    text.push_str("# env changes\n");
    for (name, value) in &plan.env_changes {
        let _ = writeln!(text, "{name}={value}");
    }
    text.push_str("# env (complete)\n");
    for (name, value) in &plan.env {
        let _ = writeln!(
            text,
            "{}={}",
            name.to_string_lossy(),
            value.to_string_lossy()
        );
    }
    let _ = writeln!(text, "# cwd\n{}", plan.cwd.display());
    let _ = write!(
        text,
        "# profile\n{}",
        plan.profile().unwrap_or("<not UTF-8>")
    );
    text
}

fn check_golden(name: &str, policy: &SandboxPolicy, options: &SeatbeltOptions) {
    let plan = plan_with(policy, &command(), options, &mac()).unwrap();
    let actual = render(&plan);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/seatbelt/golden")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .position(|(expected, actual)| expected != actual)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "golden file {} is out of date (first difference at line {}); rerun with \
             UPDATE_GOLDEN=1 and review the diff\n--- actual ---\n{actual}",
            path.display(),
            first_difference + 1
        );
    }
}

#[test]
fn golden_read_only() {
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .profile(":read-only")
        .read("/")
        .build();
    check_golden("read_only", &policy, &options());
}

#[test]
fn golden_workspace_with_git_pointer_and_missing_codex() {
    check_golden("workspace", &workspace().build(), &cache_dir());
}

#[test]
fn golden_extra_writable_roots() {
    let policy = workspace()
        .write("/Users/dev/cache")
        .protect("/Users/dev/cache", "/Users/dev/cache/.git")
        .protect("/Users/dev/cache", "/Users/dev/cache/.codex")
        .write("/opt/build")
        .read("/Users/dev/repo/vendor")
        .write("/Users/dev/repo/vendor/out")
        .build();
    check_golden("extra_writable_roots", &policy, &cache_dir());
}

#[test]
fn golden_denied_paths_and_globs() {
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .profile("locked")
        .platform_defaults()
        .read("/Users/dev/docs")
        .deny("/Users/dev/docs/private")
        .read("/Users/dev/docs/private/public")
        .write("/Users/dev/repo")
        .protect("/Users/dev/repo", "/Users/dev/repo/.codex")
        .deny("/Users/dev/repo/secrets")
        .deny_glob("/Users/dev/repo/**/*.env")
        .deny_glob("/var/folders/**/id_[!p]*")
        .deny_glob("/Users/dev/repo/keys/")
        .build();
    check_golden("denied_paths_and_globs", &policy, &cache_dir());
}

#[test]
fn golden_network_enabled() {
    check_golden(
        "network_enabled",
        &workspace().network_enabled().build(),
        &cache_dir(),
    );
}

#[test]
fn golden_unix_sockets() {
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .read("/")
        .unix_socket("/var/run/agent.sock")
        .build();
    let options = SeatbeltOptions {
        extra_unix_sockets: vec![
            PathBuf::from("/tmp/ssh-Xb12/agent.77"),
            PathBuf::from("/private/var/run/agent.sock"),
        ],
        ..options()
    };
    check_golden("unix_sockets", &policy, &options);
}

#[test]
fn golden_full_access_keeps_credential_denials() {
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .profile(":danger-full-access")
        .full_access()
        .deny("/Users/dev/.codex/auth.json")
        .deny_glob("/Users/dev/**/.env")
        .build();
    check_golden("full_access", &policy, &cache_dir());
}

#[test]
fn parameters_come_in_documented_order() {
    let policy = workspace()
        .network_enabled()
        .unix_socket("/var/run/agent.sock")
        .build();
    let plan = plan_with(&policy, &command(), &cache_dir(), &mac()).unwrap();
    let names: Vec<String> = plan.argv[3..]
        .iter()
        .map(|argument| argument.to_string_lossy().into_owned())
        .take_while(|argument| argument != "--")
        .map(|argument| argument.split('=').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "-DREADABLE_ROOT_0",
            "-DREADABLE_ROOT_0_EXCLUDED_0",
            "-DWRITABLE_ROOT_0",
            "-DWRITABLE_ROOT_0_EXCLUDED_0",
            "-DWRITABLE_ROOT_0_EXCLUDED_1",
            "-DWRITABLE_ROOT_0_EXCLUDED_2",
            "-DWRITABLE_ROOT_0_EXCLUDED_3",
            "-DWRITABLE_ROOT_1",
            "-DWRITABLE_ROOT_2",
            "-DDARWIN_USER_CACHE_DIR",
            "-DUNIX_SOCKET_PATH_0",
            "-DDENIED_PATH_0",
            "-DGUARDED_PATH_0",
            "-DGUARDED_PATH_1",
            "-DGUARDED_PATH_2",
            "-DGUARDED_PATH_3",
        ]
    );
}

#[test]
fn invocation_is_fixed_program_profile_parameters_then_command() {
    let policy = workspace().build();
    let plan = plan_with(&policy, &command(), &options(), &mac()).unwrap();
    assert_eq!(plan.program, PathBuf::from("/usr/bin/sandbox-exec"));
    assert_eq!(plan.argv[0], OsString::from(SANDBOX_EXEC_PATH));
    assert_eq!(plan.argv[1], OsString::from("-p"));
    assert!(
        plan.profile()
            .unwrap()
            .starts_with("; ---- codex base profile")
    );
    let separator = plan
        .argv
        .iter()
        .position(|argument| argument == "--")
        .unwrap();
    assert_eq!(plan.argv[separator + 1..], command()[..]);
    assert_eq!(
        plan.env_changes,
        vec![
            ("CODEX_SANDBOX".to_string(), "seatbelt".to_string()),
            (
                "CODEX_SANDBOX_NETWORK_DISABLED".to_string(),
                "1".to_string()
            ),
        ]
    );
    let plan = plan_with(
        &workspace().network_enabled().build(),
        &command(),
        &options(),
        &mac(),
    )
    .unwrap();
    assert_eq!(
        plan.env_changes,
        vec![("CODEX_SANDBOX".to_string(), "seatbelt".to_string())]
    );
}

#[test]
fn empty_command_and_relative_socket_are_refused() {
    let policy = workspace().build();
    assert_eq!(
        plan_with(&policy, &[], &options(), &mac()),
        Err(SeatbeltPlanError::EmptyCommand)
    );
    let options = SeatbeltOptions {
        extra_unix_sockets: vec![PathBuf::from("agent.sock")],
        ..options()
    };
    assert_eq!(
        plan_with(&policy, &command(), &options, &mac()),
        Err(SeatbeltPlanError::RelativePath {
            path: PathBuf::from("agent.sock")
        })
    );
}

#[test]
fn restricted_network_emits_no_network_allowance() {
    let plan = plan_with(&workspace().build(), &command(), &cache_dir(), &mac()).unwrap();
    let profile = plan.profile().unwrap();
    assert!(!profile.contains("(allow network"));
    assert!(!profile.contains("(allow system-socket"));
    assert!(profile.ends_with("(deny file-ioctl (ioctl-command TIOCSTI))\n"));
}
