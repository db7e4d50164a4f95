//! Exact bubblewrap argv for the policy shapes that matter. Paths live in a temporary directory.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{
    Access, Enforcement, NetworkAccess, PathRule, ProtectedKind, ProtectedPath, SandboxPolicy,
    WritableRoot,
};

use super::*;
use crate::bwrap::discovery::Features;
use crate::bwrap::{Invocation, argv};

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        Fixture { _dir: dir, root }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn dir(&self, relative: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    fn file(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }
}

fn policy(rules: &[(&Path, Access)], writable_roots: Vec<WritableRoot>) -> SandboxPolicy {
    let mut rules: Vec<PathRule> = rules
        .iter()
        .map(|(path, access)| PathRule {
            path: path.to_path_buf(),
            access: *access,
        })
        .collect();
    rules.sort_by(|a, b| a.path.cmp(&b.path));
    SandboxPolicy {
        profile: "test".to_string(),
        enforcement: Enforcement::Managed,
        cwd: PathBuf::from("/"),
        rules,
        platform_defaults: false,
        deny_globs: Vec::new(),
        glob_scan_max_depth: None,
        writable_roots,
        network: NetworkAccess::Restricted,
        unix_sockets: Vec::new(),
    }
}

fn protected(path: &Path, kind: ProtectedKind) -> ProtectedPath {
    ProtectedPath {
        path: path.to_path_buf(),
        kind,
    }
}

fn mounts(policy: &SandboxPolicy) -> MountPlan {
    mounts_with(policy, &[], &[])
}

fn mounts_with(policy: &SandboxPolicy, defaults: &[&str], deny_matches: &[PathBuf]) -> MountPlan {
    build(&MountInputs {
        policy,
        platform_defaults: defaults,
        deny_matches,
        host_sockets: &[],
    })
    .unwrap()
}

/// Turn `["--bind", "{root}/w", …]` into OsStrings, substituting the fixture root.
fn expected(fixture: &Fixture, parts: &[&str]) -> Vec<OsString> {
    parts
        .iter()
        .map(|part| OsString::from(part.replace("{root}", &fixture.root.to_string_lossy())))
        .collect()
}

fn full_argv(policy: &SandboxPolicy, filesystem: &[OsString], cwd: &Path) -> Vec<OsString> {
    argv(&Invocation {
        policy,
        features: Features {
            disable_userns: true,
            setuid: false,
        },
        filesystem,
        seccomp: policy.enforcement == Enforcement::Managed,
        status_fd: true,
        cwd,
        loader_env: &[],
        command: &[OsString::from("true")],
    })
}

#[test]
fn read_only_policy_exact_argv() {
    let fixture = Fixture::new();
    let cwd = fixture.dir("w");
    let policy = policy(&[(Path::new("/"), Access::Read)], Vec::new());
    let plan = mounts(&policy);
    assert!(plan.mount_points.is_empty());
    assert_eq!(
        full_argv(&policy, &plan.args, &cwd),
        expected(
            &fixture,
            &[
                "bwrap",
                "--new-session",
                "--die-with-parent",
                "--unshare-user",
                "--unshare-pid",
                "--unshare-uts",
                "--unshare-ipc",
                "--unshare-net",
                "--disable-userns",
                "--cap-drop",
                "ALL",
                "--json-status-fd",
                "4",
                "--seccomp",
                "3",
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--chdir",
                "{root}/w",
                "--",
                "true",
            ]
        )
    );
}

#[test]
fn workspace_write_protects_git_dir_gitdir_pointer_and_missing_codex() {
    let fixture = Fixture::new();
    let workspace = fixture.dir("w");
    let gitdir = fixture.dir("repo/.git/worktrees/w");
    fixture.file("w/.git", &format!("gitdir: {}\n", gitdir.display()));
    let nested_repo = fixture.dir("w/lib/.git");
    let policy = policy(
        &[(Path::new("/"), Access::Read), (&workspace, Access::Write)],
        vec![WritableRoot {
            root: workspace.clone(),
            protected: vec![
                protected(&workspace.join(".codex"), ProtectedKind::Metadata),
                protected(&workspace.join(".git"), ProtectedKind::Metadata),
                protected(&gitdir, ProtectedKind::GitDirTarget),
                protected(&nested_repo, ProtectedKind::Metadata),
            ],
        }],
    );
    let plan = mounts(&policy);
    assert_eq!(
        plan.args,
        expected(
            &fixture,
            &[
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--bind",
                "{root}/w",
                "{root}/w",
                "--perms",
                "555",
                "--tmpfs",
                "{root}/w/.codex",
                "--ro-bind",
                "{root}/w/.git",
                "{root}/w/.git",
                // the directory between the root and a nested protected path is pinned
                "--bind",
                "{root}/w/lib",
                "{root}/w/lib",
                "--ro-bind",
                "{root}/w/lib/.git",
                "{root}/w/lib/.git",
                "--ro-bind",
                "{root}/repo/.git/worktrees/w",
                "{root}/repo/.git/worktrees/w",
                "--remount-ro",
                "{root}/w/.codex",
            ]
        )
    );
    assert_eq!(plan.mount_points, vec![workspace.join(".codex")]);
    assert!(
        !workspace.join(".codex").exists(),
        "planning creates nothing"
    );
}

fn make_mount_point(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(MOUNT_POINT_MODE)).unwrap();
}

/// Regression: a second run that planned while the first run's mount point existed bound it
/// read-only without holding it; when the first run removed it, the kernel detached that bind in
/// the second sandbox, which could then create the protected path. Another run's mount point (the
/// path itself or an ancestor) is now planned exactly like a missing path: masked and held.
#[test]
fn another_runs_mount_point_is_planned_like_a_missing_path() {
    let fixture = Fixture::new();
    let workspace = fixture.dir("w");
    let policy = policy(
        &[(Path::new("/"), Access::Read), (&workspace, Access::Write)],
        vec![WritableRoot {
            root: workspace.clone(),
            protected: vec![
                protected(&workspace.join(".codex"), ProtectedKind::Metadata),
                protected(&workspace.join("pkg/.git"), ProtectedKind::Metadata),
            ],
        }],
    );
    let missing = mounts(&policy);
    assert_eq!(
        missing.mount_points,
        vec![workspace.join(".codex"), workspace.join("pkg")]
    );
    make_mount_point(&workspace.join(".codex"));
    make_mount_point(&workspace.join("pkg"));
    assert_eq!(mounts(&policy), missing);

    // A user's directory, even with that mode, is bound when it is not empty.
    fixture.file("w/.codex-user/config.toml", "");
    std::fs::remove_dir(workspace.join(".codex")).unwrap();
    std::fs::rename(workspace.join(".codex-user"), workspace.join(".codex")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(MOUNT_POINT_MODE);
        std::fs::set_permissions(workspace.join(".codex"), mode).unwrap();
    }
    let plan = mounts(&policy);
    assert_eq!(plan.mount_points, vec![workspace.join("pkg")]);
    let codex = workspace.join(".codex").into_os_string();
    assert!(
        plan.args
            .windows(3)
            .any(|window| window == [OsString::from("--ro-bind"), codex.clone(), codex.clone()]),
        "{:?}",
        plan.args
    );
}

#[test]
fn deny_masks_files_and_directories_and_skips_missing_paths() {
    let fixture = Fixture::new();
    let secret = fixture.file("home/.codex/auth.json", "{}");
    let keys = fixture.dir("home/.ssh");
    let reopened = fixture.dir("home/.ssh/public");
    let policy = policy(
        &[
            (Path::new("/"), Access::Read),
            (&secret, Access::Deny),
            (&keys, Access::Deny),
            (&reopened, Access::Read),
            (&fixture.path("home/missing"), Access::Deny),
        ],
        Vec::new(),
    );
    let plan = mounts(&policy);
    assert_eq!(
        plan.args,
        expected(
            &fixture,
            &[
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--perms",
                "111",
                "--tmpfs",
                "{root}/home/.ssh",
                "--ro-bind",
                "/dev/null",
                "{root}/home/.codex/auth.json",
                "--ro-bind",
                "{root}/home/.ssh/public",
                "{root}/home/.ssh/public",
                "--remount-ro",
                "{root}/home/.ssh",
            ]
        )
    );
}

#[test]
fn restricted_read_with_platform_defaults() {
    let fixture = Fixture::new();
    fixture.dir("usr/bin");
    std::os::unix::fs::symlink("usr/bin", fixture.path("bin")).unwrap();
    let docs = fixture.dir("docs");
    let private = fixture.dir("docs/private");
    let mut policy = policy(
        &[(&docs, Access::Read), (&private, Access::Deny)],
        Vec::new(),
    );
    policy.platform_defaults = true;
    let defaults = [
        fixture.path("bin").to_string_lossy().into_owned(),
        fixture.path("usr").to_string_lossy().into_owned(),
        fixture.path("nix/store").to_string_lossy().into_owned(),
    ];
    let defaults: Vec<&str> = defaults.iter().map(String::as_str).collect();
    let plan = mounts_with(&policy, &defaults, &[]);
    assert_eq!(
        plan.args,
        expected(
            &fixture,
            &[
                "--tmpfs",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--symlink",
                "usr/bin",
                "{root}/bin",
                "--ro-bind",
                "{root}/docs",
                "{root}/docs",
                "--ro-bind",
                "{root}/usr",
                "{root}/usr",
                "--perms",
                "000",
                "--tmpfs",
                "{root}/docs/private",
                "--remount-ro",
                "{root}/docs/private",
                "--remount-ro",
                "/",
            ]
        )
    );
}

#[test]
fn full_access_masks_only_deny_rules_and_shares_the_network() {
    let fixture = Fixture::new();
    let cwd = fixture.dir("w");
    let auth = fixture.file("home/.codex/auth.json", "{}");
    let mut policy = policy(
        &[(Path::new("/"), Access::Write), (&auth, Access::Deny)],
        Vec::new(),
    );
    policy.enforcement = Enforcement::FullAccess;
    let plan = mounts(&policy);
    assert_eq!(
        full_argv(&policy, &plan.args, &cwd),
        expected(
            &fixture,
            &[
                "bwrap",
                "--new-session",
                "--die-with-parent",
                "--unshare-user",
                "--unshare-pid",
                "--unshare-uts",
                "--cap-drop",
                "ALL",
                "--json-status-fd",
                "4",
                "--dev-bind",
                "/",
                "/",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--ro-bind",
                "/dev/null",
                "{root}/home/.codex/auth.json",
                "--chdir",
                "{root}/w",
                "--",
                "true",
            ]
        )
    );
}

#[test]
fn network_enabled_keeps_the_network_namespace_and_seccomp() {
    let fixture = Fixture::new();
    let cwd = fixture.dir("w");
    let mut policy = policy(&[(Path::new("/"), Access::Read)], Vec::new());
    policy.network = NetworkAccess::Enabled;
    let argv = full_argv(&policy, &mounts(&policy).args, &cwd);
    assert!(!argv.contains(&OsString::from("--unshare-net")));
    assert!(argv.contains(&OsString::from("--seccomp")));
    assert!(argv.contains(&OsString::from("--unshare-ipc")));
}

#[test]
fn symlinked_codex_inside_the_workspace_fails_closed() {
    let fixture = Fixture::new();
    let workspace = fixture.dir("w");
    fixture.dir("w/decoy");
    std::os::unix::fs::symlink(workspace.join("decoy"), workspace.join(".codex")).unwrap();
    let policy = policy(
        &[(Path::new("/"), Access::Read), (&workspace, Access::Write)],
        vec![WritableRoot {
            root: workspace.clone(),
            protected: vec![protected(
                &workspace.join(".codex"),
                ProtectedKind::Metadata,
            )],
        }],
    );
    let error = build(&MountInputs {
        policy: &policy,
        platform_defaults: &[],
        deny_matches: &[],
        host_sockets: &[],
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot enforce sandbox read-only path {0}/.codex because it crosses writable symlink {0}/.codex",
            workspace.display()
        )
    );
}

#[test]
fn deny_path_through_a_writable_symlink_fails_closed() {
    let fixture = Fixture::new();
    let workspace = fixture.dir("w");
    fixture.file("outside/secret", "x");
    std::os::unix::fs::symlink(fixture.path("outside"), workspace.join("link")).unwrap();
    let policy = policy(
        &[
            (Path::new("/"), Access::Read),
            (&workspace, Access::Write),
            (&workspace.join("link/secret"), Access::Deny),
        ],
        Vec::new(),
    );
    let error = build(&MountInputs {
        policy: &policy,
        platform_defaults: &[],
        deny_matches: &[],
        host_sockets: &[],
    })
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot enforce sandbox deny-read path"),
        "{error}"
    );
}

#[test]
fn writable_root_under_a_symlinked_ancestor_binds_the_real_target() {
    let fixture = Fixture::new();
    fixture.dir("real/w/.git");
    std::os::unix::fs::symlink(fixture.path("real"), fixture.path("alias")).unwrap();
    let logical = fixture.path("alias/w");
    let policy = policy(
        &[(Path::new("/"), Access::Read), (&logical, Access::Write)],
        vec![WritableRoot {
            root: logical.clone(),
            protected: vec![protected(&logical.join(".git"), ProtectedKind::Metadata)],
        }],
    );
    assert_eq!(
        mounts(&policy).args,
        expected(
            &fixture,
            &[
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--bind",
                "{root}/real/w",
                "{root}/real/w",
                "--ro-bind",
                "{root}/real/w/.git",
                "{root}/real/w/.git",
            ]
        )
    );
}

#[test]
fn deny_glob_matches_are_masked_last() {
    let fixture = Fixture::new();
    let workspace = fixture.dir("w");
    let env = fixture.file("w/app/.env", "TOKEN=1");
    let policy = policy(
        &[(Path::new("/"), Access::Read), (&workspace, Access::Write)],
        Vec::new(),
    );
    let plan = mounts_with(&policy, &[], std::slice::from_ref(&env));
    assert_eq!(
        plan.args,
        expected(
            &fixture,
            &[
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--bind",
                "{root}/w",
                "{root}/w",
                "--ro-bind",
                "/dev/null",
                "{root}/w/app/.env",
            ]
        )
    );
}

#[test]
fn a_workspace_inside_a_writable_directory_cannot_be_renamed_away() {
    let fixture = Fixture::new();
    let tmp = fixture.dir("tmp");
    let project = fixture.dir("tmp/proj");
    fixture.dir("tmp/proj/.git");
    let policy = policy(
        &[
            (Path::new("/"), Access::Read),
            (&tmp, Access::Write),
            (&project, Access::Write),
        ],
        vec![
            WritableRoot {
                root: tmp.clone(),
                protected: Vec::new(),
            },
            WritableRoot {
                root: project.clone(),
                protected: vec![protected(&project.join(".git"), ProtectedKind::Metadata)],
            },
        ],
    );
    assert_eq!(
        mounts(&policy).args,
        expected(
            &fixture,
            &[
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--remount-ro",
                "/proc",
                "--bind",
                "{root}/tmp",
                "{root}/tmp",
                // `mv {root}/tmp/proj …` would move `.git`'s read-only mount away
                "--bind",
                "{root}/tmp/proj",
                "{root}/tmp/proj",
                "--ro-bind",
                "{root}/tmp/proj/.git",
                "{root}/tmp/proj/.git",
            ]
        )
    );
}

/// Regression (red team): a denied path that does not exist yet inside a writable root (a
/// library caller's `$CODEX_HOME` not created yet) was left creatable; it is now held like a
/// missing protected path. Outside writable views nothing is needed.
#[test]
fn a_missing_denied_path_inside_a_writable_root_stays_uncreatable() {
    let fixture = Fixture::new();
    let workspace = fixture.dir("w");
    let codex_home = workspace.join(".codexhome");
    let policy = policy(
        &[
            (Path::new("/"), Access::Read),
            (&workspace, Access::Write),
            (&codex_home, Access::Deny),
            (&fixture.path("elsewhere/missing"), Access::Deny),
        ],
        vec![WritableRoot {
            root: workspace.clone(),
            protected: Vec::new(),
        }],
    );
    let plan = mounts(&policy);
    assert_eq!(plan.mount_points, vec![codex_home.clone()]);
    let args: Vec<String> = plan
        .args
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let tmpfs = args
        .windows(4)
        .any(|w| w == ["--perms", "555", "--tmpfs", &codex_home.to_string_lossy()]);
    assert!(tmpfs, "{args:?}");
}
