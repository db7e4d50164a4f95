//! Regression tests for the security review of the Seatbelt planner, named after the findings.
//! Each one tries the attack against the generated profile (evaluated by
//! [`super::sbpl_evaluator`]) or the planner and asserts it fails, and checks that the ordinary
//! operation next to it still works.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::canonical::fake::FakeFileSystem;
#[cfg(unix)]
use super::plan;
use super::sbpl_evaluator::{Sbpl, parameters};
use super::test_support::PolicyBuilder;
use super::{PathRole, SeatbeltOptions, SeatbeltPlan, SeatbeltPlanError, plan_with};
use codex_sandbox_policy::SandboxPolicy;

fn command() -> Vec<OsString> {
    vec![OsString::from("/bin/sh")]
}

fn options(cwd: &str) -> SeatbeltOptions {
    SeatbeltOptions {
        cwd: PathBuf::from(cwd),
        ..SeatbeltOptions::default()
    }
}

/// A planned profile with its parameters, ready to ask what it allows.
struct Evaluated {
    plan: SeatbeltPlan,
    profile: Sbpl,
    parameters: HashMap<String, PathBuf>,
}

impl Evaluated {
    fn new(
        policy: &SandboxPolicy,
        options: &SeatbeltOptions,
        file_system: &FakeFileSystem,
    ) -> Self {
        let plan = plan_with(policy, &command(), options, file_system).unwrap();
        let profile = Sbpl::parse(plan.profile().unwrap());
        let parameters = parameters(&plan.argv);
        Self {
            plan,
            profile,
            parameters,
        }
    }

    fn allows(&self, operation: &str, path: &str) -> bool {
        self.profile
            .allows(operation, Path::new(path), &self.parameters)
    }

    #[track_caller]
    fn assert_denied(&self, operation: &str, path: &str) {
        assert!(
            !self.allows(operation, path),
            "{operation} {path} must be denied\n{}",
            self.plan.profile().unwrap_or_default()
        );
    }

    #[track_caller]
    fn assert_allowed(&self, operation: &str, path: &str) {
        assert!(
            self.allows(operation, path),
            "{operation} {path} must stay allowed\n{}",
            self.plan.profile().unwrap_or_default()
        );
    }
}

/// `:workspace` in `cwd` with `/tmp` writable, `.git` / `.codex` / `.agents` protected.
fn workspace_under_tmp(cwd: &str) -> SandboxPolicy {
    PolicyBuilder::new(cwd)
        .read("/")
        .write(cwd)
        .write("/tmp")
        .protect(cwd, format!("{cwd}/.agents"))
        .protect(cwd, format!("{cwd}/.codex"))
        .protect(cwd, format!("{cwd}/.git"))
        .build()
}

// ---- environment and working directory ------------------------------------------

#[test]
fn finding_5_plan_carries_the_complete_environment_and_the_working_directory() {
    let policy = workspace_under_tmp("/Users/dev/repo");
    let with_env = SeatbeltOptions {
        env: vec![
            (OsString::from("PATH"), OsString::from("/usr/bin:/bin")),
            (
                OsString::from("CODEX_SANDBOX_NETWORK_DISABLED"),
                OsString::from("0"),
            ),
            (OsString::from("API_TOKEN"), OsString::from("sk-secret")),
        ],
        ..options("/Users/dev/repo/./src")
    };
    let plan = plan_with(&policy, &command(), &with_env, &FakeFileSystem::macos()).unwrap();
    assert_eq!(
        plan.env,
        vec![
            (OsString::from("PATH"), OsString::from("/usr/bin:/bin")),
            (OsString::from("API_TOKEN"), OsString::from("sk-secret")),
            (OsString::from("CODEX_SANDBOX"), OsString::from("seatbelt")),
            (
                OsString::from("CODEX_SANDBOX_NETWORK_DISABLED"),
                OsString::from("1")
            ),
        ],
        "the caller's environment, exactly, with the sandbox's variables winning"
    );
    assert_eq!(plan.cwd, PathBuf::from("/Users/dev/repo/src"));
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
    // Values may be secrets: `Debug` shows names only.
    for shown in [format!("{plan:?}"), format!("{with_env:?}")] {
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("API_TOKEN"), "{shown}");
    }
    // No working directory, or a relative one, is a planning error, not an inherited default.
    for cwd in ["", "repo"] {
        assert_eq!(
            plan_with(&policy, &command(), &options(cwd), &FakeFileSystem::macos()),
            Err(SeatbeltPlanError::RelativeCwd {
                path: PathBuf::from(cwd)
            })
        );
    }
}

// ---- renaming a directory above a carve-out ------------------------------------

#[test]
fn finding_10_cwd_under_writable_tmp_cannot_be_renamed_to_reach_git_hooks() {
    // mv /tmp/w/repo /tmp/w/r2; echo x > /tmp/w/r2/.git/hooks/pre-commit; mv /tmp/w/r2 /tmp/w/repo
    let file_system = FakeFileSystem::macos().exists("/private/tmp/w/repo/.git/hooks");
    let evaluated = Evaluated::new(
        &workspace_under_tmp("/tmp/w/repo"),
        &options("/tmp/w/repo"),
        &file_system,
    );
    for ancestor in ["/private/tmp/w/repo", "/private/tmp/w", "/private/tmp"] {
        evaluated.assert_denied("file-write-unlink", ancestor);
        evaluated.assert_denied("file-write-create", ancestor);
    }
    evaluated.assert_denied(
        "file-write-data",
        "/private/tmp/w/repo/.git/hooks/pre-commit",
    );
    // Everything else stays as writable as before.
    evaluated.assert_allowed("file-write-unlink", "/private/tmp/w/repo/src");
    evaluated.assert_allowed("file-write-create", "/private/tmp/w/repo/src/main.rs");
    evaluated.assert_allowed("file-write-unlink", "/private/tmp/other");
    evaluated.assert_allowed("file-write-create", "/private/tmp/w/sibling");
}

#[test]
fn finding_10_denied_path_under_a_writable_root_cannot_be_moved_out() {
    // mv config c2; cat c2/secrets/*
    let policy = PolicyBuilder::new("/repo")
        .read("/")
        .write("/repo")
        .deny("/repo/config/secrets")
        .read("/repo/vendor/lib")
        .deny_glob("/repo/keys/*.pem")
        .build();
    let file_system = FakeFileSystem::default().exists("/repo/config/secrets/k");
    let evaluated = Evaluated::new(&policy, &options("/repo"), &file_system);
    for guarded in ["/repo/config", "/repo/vendor", "/repo/keys", "/repo"] {
        evaluated.assert_denied("file-write-unlink", guarded);
        evaluated.assert_denied("file-write-create", guarded);
    }
    evaluated.assert_denied("file-read-data", "/repo/config/secrets/k");
    evaluated.assert_denied("file-write-unlink", "/repo/config/secrets");
    evaluated.assert_allowed("file-write-unlink", "/repo/config/app.toml");
    evaluated.assert_allowed("file-write-unlink", "/repo/src");
}

#[test]
fn finding_10_full_access_credentials_cannot_be_moved_out() {
    // mv ~/.codex ~/x; cat ~/x/auth.json
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .full_access()
        .deny("/Users/dev/.codex/auth.json")
        .build();
    let evaluated = Evaluated::new(
        &policy,
        &options("/Users/dev/repo"),
        &FakeFileSystem::macos(),
    );
    for guarded in ["/Users/dev/.codex", "/Users/dev", "/Users"] {
        evaluated.assert_denied("file-write-unlink", guarded);
    }
    evaluated.assert_allowed("file-write-unlink", "/Users/dev/repo");
    evaluated.assert_allowed("file-write-unlink", "/Users/dev/.codex/sessions");
}

// ---- writable roots and carve-outs behind replaceable symlinks -----------------

#[test]
fn finding_11_writable_root_behind_a_symlink_in_another_writable_root_is_refused() {
    // rm -rf /tmp/cache; ln -s ~ /tmp/cache  (in an earlier run)
    let file_system = FakeFileSystem::macos()
        .link("/private/tmp/cache", "/Users/dev")
        .exists("/private/tmp/other")
        .exists("/Users/dev/repo");
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .read("/")
        .write("/Users/dev/repo")
        .write("/tmp")
        .write("/tmp/cache")
        .build();
    let error = plan_with(
        &policy,
        &command(),
        &options("/Users/dev/repo"),
        &file_system,
    )
    .unwrap_err();
    assert_eq!(
        error,
        SeatbeltPlanError::CrossesWritableSymlink {
            role: PathRole::Writable,
            path: PathBuf::from("/tmp/cache"),
            symlink: PathBuf::from("/private/tmp/cache"),
        }
    );
    assert_eq!(
        error.to_string(),
        "cannot enforce sandbox writable path /tmp/cache because it crosses writable symlink /private/tmp/cache"
    );
    assert!(error.hint().is_some());
}

#[test]
fn finding_11_a_writable_root_cannot_be_replaced_by_a_symlink_in_the_first_place() {
    // Only /tmp/cache is writable: its own entry must not be removable or creatable.
    let policy = PolicyBuilder::new("/tmp/cache")
        .read("/")
        .write("/tmp/cache")
        .build();
    let file_system = FakeFileSystem::macos().exists("/private/tmp/cache");
    let evaluated = Evaluated::new(&policy, &options("/tmp/cache"), &file_system);
    evaluated.assert_denied("file-write-unlink", "/private/tmp/cache");
    evaluated.assert_denied("file-write-create", "/private/tmp/cache");
    evaluated.assert_allowed("file-write-unlink", "/private/tmp/cache/entry");
    evaluated.assert_allowed("file-write-create", "/private/tmp/cache/entry");
}

#[test]
fn finding_11_protected_and_denied_paths_behind_a_writable_symlink_are_refused() {
    // repo/.git is `gitdir: link/.git/worktrees/wt` and `repo/link` is a symlink the command
    // could re-point at a directory it controls.
    let file_system = FakeFileSystem::default()
        .link("/repo/link", "/repo/real")
        .exists("/repo/real/.git/worktrees/wt");
    let policy = PolicyBuilder::new("/repo")
        .read("/")
        .write("/repo")
        .protect("/repo", "/repo/.git")
        .protect_as(
            "/repo",
            "/repo/link/.git/worktrees/wt",
            codex_sandbox_policy::ProtectedKind::GitDirTarget,
        )
        .build();
    assert_eq!(
        plan_with(&policy, &command(), &options("/repo"), &file_system),
        Err(SeatbeltPlanError::CrossesWritableSymlink {
            role: PathRole::ReadOnly,
            path: PathBuf::from("/repo/link/.git/worktrees/wt"),
            symlink: PathBuf::from("/repo/link"),
        })
    );
    let policy = PolicyBuilder::new("/repo")
        .read("/")
        .write("/repo")
        .deny("/repo/link/secret")
        .build();
    assert!(matches!(
        plan_with(&policy, &command(), &options("/repo"), &file_system),
        Err(SeatbeltPlanError::CrossesWritableSymlink {
            role: PathRole::DenyRead,
            ..
        })
    ));
}

#[test]
fn finding_11_symlinks_the_command_cannot_touch_are_followed() {
    // `/tmp` is a link in `/`; `/opt/cache` is a link in read-only `/opt`; a protected `.codex`
    // that is itself a symlink is excluded as entry and target, not refused.
    let file_system = FakeFileSystem::macos()
        .link("/opt/cache", "/Volumes/fast/cache")
        .link("/repo/.codex", "/repo/decoy")
        .exists("/Volumes/fast/cache")
        .exists("/repo/decoy");
    let policy = PolicyBuilder::new("/repo")
        .read("/")
        .write("/repo")
        .protect("/repo", "/repo/.codex")
        .write("/opt/cache")
        .write("/tmp")
        .build();
    let plan = plan_with(&policy, &command(), &options("/repo"), &file_system).unwrap();
    assert!(
        plan.argv
            .contains(&OsString::from("-DWRITABLE_ROOT_1=/Volumes/fast/cache"))
    );
}

#[cfg(unix)]
#[test]
fn finding_11_real_symlink_inside_a_writable_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let elsewhere = base.join("elsewhere");
    let writable = base.join("writable");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(&writable).unwrap();
    std::os::unix::fs::symlink(&elsewhere, writable.join("cache")).unwrap();
    let text = |path: &Path| path.to_str().unwrap().to_string();
    let cache = text(&writable.join("cache"));
    let policy = PolicyBuilder::new(text(&writable))
        .read("/")
        .write(text(&writable))
        .write(&cache)
        .build();
    let options = SeatbeltOptions {
        cwd: writable.clone(),
        ..SeatbeltOptions::default()
    };
    assert_eq!(
        plan(&policy, &command(), &options),
        Err(SeatbeltPlanError::CrossesWritableSymlink {
            role: PathRole::Writable,
            path: writable.join("cache"),
            symlink: writable.join("cache"),
        })
    );
    // Without the enclosing writable root the symlink cannot be re-pointed: it is followed.
    let policy = PolicyBuilder::new(text(&writable))
        .read("/")
        .write(&cache)
        .build();
    let plan = plan(&policy, &command(), &options).unwrap();
    let mut expected = OsString::from("-DWRITABLE_ROOT_0=");
    expected.push(elsewhere.as_os_str());
    assert!(plan.argv.contains(&expected), "{:?}", plan.argv);
}

#[test]
fn finding_11_cache_directory_cannot_be_swapped_for_a_symlink_to_home() {
    // With the network enabled the cache directory is writable, its own entry included:
    // `rm -rf $C; ln -s ~ $C` would make `$HOME` writable in the next run.
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .read("/")
        .write("/Users/dev/repo")
        .network_enabled()
        .build();
    let options = SeatbeltOptions {
        darwin_user_cache_dir: Some(PathBuf::from("/var/folders/zz/x1/C")),
        ..options("/Users/dev/repo")
    };
    let file_system = FakeFileSystem::macos().exists("/private/var/folders/zz/x1/C");
    let evaluated = Evaluated::new(&policy, &options, &file_system);
    evaluated.assert_denied("file-write-unlink", "/private/var/folders/zz/x1/C");
    evaluated.assert_denied("file-write-create", "/private/var/folders/zz/x1/C");
    evaluated.assert_allowed("file-write-unlink", "/private/var/folders/zz/x1/C/tls");

    // A symlink planted earlier is refused instead of followed.
    let planted = FakeFileSystem::macos()
        .link("/private/var/folders/zz/x1/C", "/Users/dev")
        .exists("/Users/dev/repo");
    let error = plan_with(&policy, &command(), &options, &planted).unwrap_err();
    assert_eq!(
        error,
        SeatbeltPlanError::SymlinkedCacheDir {
            path: PathBuf::from("/var/folders/zz/x1/C"),
            symlink: PathBuf::from("/private/var/folders/zz/x1/C"),
        }
    );
    // With the network restricted the directory is not writable and not used: no refusal.
    let restricted = PolicyBuilder::from_policy(policy)
        .network_restricted()
        .build();
    assert!(plan_with(&restricted, &command(), &options, &planted).is_ok());
}

// ---- `.codex` / `.agents` below a writable root ---------------------------------

#[test]
fn finding_3_nested_project_metadata_cannot_be_created_anywhere_writable() {
    let policy = workspace_under_tmp("/Users/dev/repo");
    let file_system = FakeFileSystem::macos()
        .exists("/Users/dev/repo/sub")
        .exists("/private/tmp");
    let evaluated = Evaluated::new(&policy, &options("/Users/dev/repo"), &file_system);
    for denied in [
        "/Users/dev/repo/sub/.codex",
        "/Users/dev/repo/sub/.codex/config.toml",
        "/Users/dev/repo/sub/deeper/.agents/skills/x.md",
        "/Users/dev/repo/sub/.CODEX/config.toml",
        "/Users/dev/repo/.Git/hooks/pre-commit",
        "/Users/dev/repo/.codex",
        // A prepared tree in another writable root cannot be built and moved in either.
        "/private/tmp/stage/.codex/config.toml",
    ] {
        evaluated.assert_denied("file-write-create", denied);
        evaluated.assert_denied("file-write-data", denied);
    }
    for allowed in [
        "/Users/dev/repo/sub/.git/config",
        "/Users/dev/repo/sub/.codexrc",
        "/Users/dev/repo/sub/my.codex/x",
        "/private/tmp/stage/file",
    ] {
        evaluated.assert_allowed("file-write-create", allowed);
    }
}

#[test]
fn finding_3_cache_directory_is_covered_when_the_network_makes_it_writable() {
    let policy = PolicyBuilder::new("/Users/dev/repo")
        .read("/")
        .write("/Users/dev/repo")
        .network_enabled()
        .build();
    let options = SeatbeltOptions {
        darwin_user_cache_dir: Some(PathBuf::from("/var/folders/zz/x1/C")),
        ..options("/Users/dev/repo")
    };
    let file_system = FakeFileSystem::macos().exists("/private/var/folders/zz/x1/C");
    let evaluated = Evaluated::new(&policy, &options, &file_system);
    evaluated.assert_allowed("file-write-create", "/private/var/folders/zz/x1/C/tls/x");
    evaluated.assert_denied(
        "file-write-create",
        "/private/var/folders/zz/x1/C/stage/.agents/x",
    );
}

// ---- escaping: paths never reach the profile text raw -------------------------------------

#[test]
fn hostile_paths_stay_in_one_argv_element_and_are_escaped_in_regexes() {
    let root = "/Users/dev/we\"ird\n(re)po=x; (allow default)";
    let policy = PolicyBuilder::new(root)
        .read("/")
        .write(root)
        .deny_glob("/Users/dev/*.env\n(allow file-write*)")
        .build();
    let evaluated = Evaluated::new(&policy, &options(root), &FakeFileSystem::default());
    let profile = evaluated.plan.profile().unwrap();
    assert!(!profile.contains("(allow default)"), "{profile}");
    assert!(!profile.contains("\n(allow file-write*)"), "{profile}");
    assert!(!profile.contains("we\"ird"), "{profile}");
    let mut definition = OsString::from("-DWRITABLE_ROOT_0=");
    definition.push(root);
    assert!(evaluated.plan.argv.contains(&definition));
    evaluated.assert_allowed("file-write-create", &format!("{root}/src"));
    evaluated.assert_denied("file-write-create", &format!("{root}/a/.codex"));

    let policy = PolicyBuilder::new("/repo")
        .read("/")
        .write("/repo")
        .deny("/repo/nul\0byte")
        .build();
    assert_eq!(
        plan_with(
            &policy,
            &command(),
            &options("/repo"),
            &FakeFileSystem::default()
        ),
        Err(SeatbeltPlanError::NulInPath {
            path: PathBuf::from("/repo/nul\0byte")
        })
    );
}

/// Administrator denials (`SandboxPolicy::force_deny`) are plain deny rules: they must come
/// after every allowance so that nothing re-allows them.
#[test]
fn no_allowance_follows_the_first_trailing_deny() {
    let policy = workspace_under_tmp("/Users/dev/repo");
    let policy = PolicyBuilder::from_policy(policy)
        .deny("/Users/dev/repo/secret")
        .deny_glob("/Users/dev/**/*.pem")
        .network_enabled()
        .unix_socket("/var/run/agent.sock")
        .platform_defaults()
        .build();
    let options = SeatbeltOptions {
        darwin_user_cache_dir: Some(PathBuf::from("/var/folders/zz/x1/C")),
        ..options("/Users/dev/repo")
    };
    let evaluated = Evaluated::new(&policy, &options, &FakeFileSystem::macos());
    let rules: Vec<bool> = evaluated
        .profile
        .rules()
        .map(|(allow, _, _)| allow)
        .collect();
    let profile = evaluated.plan.profile().unwrap();
    let first_trailing_deny = profile.find("; ---- denied paths ----").unwrap();
    let allows_after = profile[first_trailing_deny..].matches("(allow").count();
    assert_eq!(allows_after, 0, "{profile}");
    assert!(rules.iter().any(|allow| !allow));
    evaluated.assert_denied("file-read-data", "/Users/dev/repo/secret/key");
    evaluated.assert_denied("file-write-create", "/Users/dev/repo/secret/key");
}
