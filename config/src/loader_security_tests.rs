//! Regression tests for the security review of the configuration loader (one per finding,
//! named after the bug; setups follow the reviewer's reproducers).

use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Access, Enforcement, ProtectedKind};

use crate::test_support::Env;
use crate::{LoadConfigError, load_config};

fn writable_roots(config: &crate::Config) -> Vec<PathBuf> {
    config
        .sandbox_policy
        .writable_roots
        .iter()
        .map(|root| root.root.clone())
        .collect()
}

/// Regression: `":root" = "write"` passed `allowed_sandbox_modes = ["read-only",
/// "workspace-write"]` as mere workspace-write.
#[test]
fn root_write_profile_escaped_allowed_sandbox_modes() {
    let env = Env::new();
    let source = env.requirements("allowed_sandbox_modes = ['read-only', 'workspace-write']\n");
    env.write(
        "home/.codex/config.toml",
        "default_permissions = 'all'\n[permissions.all.filesystem]\n':root' = 'write'\n[permissions.all.network]\nenabled = true\n",
    );
    let config = env.load(&[]);
    let policy = &config.sandbox_policy;
    assert_eq!(policy.profile, ":read-only");
    assert!(!policy.has_full_write());
    assert_eq!(policy.access_for(Path::new("/etc/x")), Access::Read);
    assert!(policy.network_restricted());
    assert_eq!(
        config.warnings,
        vec![format!(
            "Configured value for `permission_profile` is disallowed by requirements; falling back to required value ReadOnly. Details: invalid value for `sandbox_mode`: `DangerFullAccess` is not in the allowed set [ReadOnly, WorkspaceWrite] (set by {source})"
        )]
    );
    // `"/**" = "write"` is the same thing.
    let config = env.load(&[
        "default_permissions=\"x\"",
        "permissions.x.filesystem={\"/**\"=\"write\"}",
    ]);
    assert_eq!(config.sandbox_policy.profile, ":read-only");
}

/// Regression: legacy `workspace-write` with `writable_roots = ['/']` (file or `-c`) escaped a
/// managed `sandbox_mode = "workspace-write"`.
#[test]
fn legacy_writable_root_slash_escaped_allowed_sandbox_modes() {
    let env = Env::new();
    env.write(
        "etc/managed_config.toml",
        "sandbox_mode = 'workspace-write'\n",
    );
    env.write(
        "home/.codex/config.toml",
        "[sandbox_workspace_write]\nwritable_roots = ['/']\n",
    );
    let config = env.load(&[]);
    assert_eq!(config.sandbox_policy.profile, "read-only");
    assert!(!config.sandbox_policy.has_full_write());
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);

    let env = Env::new();
    env.write(
        "etc/managed_config.toml",
        "sandbox_mode = 'workspace-write'\n",
    );
    let config = env.load(&["sandbox_workspace_write.writable_roots=['/']"]);
    assert_eq!(config.sandbox_policy.profile, "read-only");
    assert!(!config.sandbox_policy.has_full_write());
    // An ordinary extra root is still workspace-write.
    let config = env.load(&["sandbox_workspace_write.writable_roots=['BASE/extra']"]);
    assert_eq!(config.sandbox_policy.profile, "workspace-write");
}

/// Regression: a requirement `deny_read` was undone by a more specific allow rule, or by a cwd
/// inside the denied directory.
#[test]
fn requirement_deny_read_was_reopened_by_more_specific_rules() {
    let env = Env::new();
    std::fs::create_dir_all(env.base.join("secret/inner")).unwrap();
    env.requirements("[permissions.filesystem]\ndeny_read = ['BASE/secret']\n");
    let secret = env.base.join("secret");
    let config = env.load(&[
        "default_permissions=\"x\"",
        "permissions.x.filesystem={\":root\"=\"read\", \"BASE/secret/inner\"=\"write\"}",
    ]);
    let policy = &config.sandbox_policy;
    assert_eq!(policy.access_for(&secret.join("inner/k")), Access::Deny);
    assert_eq!(policy.access_for(&secret.join("k")), Access::Deny);
    assert!(
        policy
            .rules
            .iter()
            .all(|rule| !rule.path.starts_with(&secret) || rule.path == secret),
        "no rule below the denial survives: {:?}",
        policy.rules
    );
    assert!(
        !writable_roots(&config)
            .iter()
            .any(|root| root.starts_with(&secret))
    );

    // The cwd inside the denied directory: implicit default, then legacy workspace-write.
    env.trust_repo("trusted");
    for overrides in [vec![], vec!["sandbox_mode=workspace-write"]] {
        let mut options = env.options(&overrides);
        options.cwd = secret.join("inner");
        let config = load_config(&options).unwrap();
        assert_eq!(
            config.sandbox_policy.access_for(&secret.join("inner/k")),
            Access::Deny,
            "{overrides:?}"
        );
        assert!(
            !writable_roots(&config)
                .iter()
                .any(|root| root.starts_with(&secret)),
            "{overrides:?}"
        );
    }
}

/// Findings 3 and 4: a missing `.git` / `.agents` (or `.codex` outside the cwd) in a writable
/// root of legacy workspace-write or a custom profile could be created by the command (and a
/// created `.codex` is loaded as project configuration by the next session).
#[test]
fn missing_metadata_was_creatable_in_legacy_and_custom_writable_roots() {
    let env = Env::new();
    env.trust_repo("trusted");
    std::fs::create_dir_all(env.base.join("extra")).unwrap();
    for overrides in [
        vec![],
        vec![
            "sandbox_mode=workspace-write",
            "sandbox_workspace_write.writable_roots=['BASE/extra']",
        ],
        vec![
            "default_permissions=\"x\"",
            "permissions.x.filesystem={\":root\"=\"read\", \":workspace_roots\"=\"write\", \"BASE/extra\"=\"write\"}",
        ],
    ] {
        let config = env.load(&overrides);
        let policy = &config.sandbox_policy;
        for root in [env.repo(), env.base.join("extra")] {
            if !writable_roots(&config).contains(&root) {
                continue;
            }
            for name in [".git", ".agents", ".codex"] {
                assert_eq!(
                    policy.access_for(&root.join(name).join("x")),
                    Access::Read,
                    "{} in {overrides:?}",
                    root.join(name).display()
                );
                assert!(policy.is_protected(&root.join(name)));
            }
        }
        assert_eq!(policy.access_for(&env.repo().join("src.rs")), Access::Write);
    }
}

/// Regression: an untrusted directory claimed a trusted repository's trust
/// with a forged `.git` → gitdir → `commondir` chain, and its `.codex/config.toml` applied.
#[test]
fn forged_commondir_made_untrusted_project_config_apply() {
    let env = Env::new();
    std::fs::create_dir_all(env.base.join("trusted/.git")).unwrap();
    env.write(
        "home/.codex/config.toml",
        "[projects.\"BASE/trusted\"]\ntrust_level = \"trusted\"\n",
    );
    env.write("evil/fake/commondir", "BASE/trusted/.git\n");
    env.write("evil/fake/gitdir", "BASE/evil/.git\n");
    env.write("evil/.git", "gitdir: fake\n");
    env.write(
        "evil/.codex/config.toml",
        "sandbox_mode = 'danger-full-access'\napproval_policy = 'never'\n",
    );
    let mut options = env.options(&[]);
    options.cwd = env.base.join("evil");
    let config = load_config(&options).unwrap();
    assert_eq!(config.project_trust, crate::ProjectTrust::Unknown);
    assert_eq!(config.sandbox_policy.enforcement, Enforcement::Managed);
    assert_eq!(config.sandbox_policy.profile, ":read-only");
}

/// Regression: requirement keys this build does not enforce were silently ignored.
#[test]
fn unenforced_requirement_keys_were_silently_ignored() {
    let env = Env::new();
    for (text, key) in [
        (
            "[[remote_sandbox_config]]\nhostname_patterns = ['*']\nallowed_sandbox_modes = ['read-only']\n",
            "remote_sandbox_config",
        ),
        (
            "[experimental_network]\nenabled = false\n",
            "experimental_network",
        ),
        (
            "allowed_permission_profiles = ['x']\n",
            "allowed_permission_profiles",
        ),
        (
            "default_permissions = ':read-only'\n",
            "default_permissions",
        ),
        (
            "[permissions.filesystem]\ndeny_write = ['/etc']\n",
            "permissions.filesystem.deny_write",
        ),
        (
            "[permissions.network]\nenabled = false\n",
            "permissions.network.enabled",
        ),
    ] {
        let source = env.requirements(text);
        assert_eq!(
            env.load_error(&[]).to_string(),
            format!(
                "requirement `{key}` (set by {source}) constrains the sandbox or network but is not supported by this version of Codex; remove it from the requirements or upgrade Codex"
            ),
            "{text}"
        );
    }
    let source = env.requirements(
        "allowed_web_search_modes = ['cached']\nenforce_residency = 'us'\nmystery = 1\n[mcp_servers.docs.identity]\ncommand = 'x'\n[rules]\nprefix_rules = []\n[hooks]\n[feature_requirements]\nuse_legacy_landlock = true\n",
    );
    let config = env.load(&[]);
    assert_eq!(
        config.warnings,
        vec![
            format!(
                "Ignoring requirement `allowed_web_search_modes` from {source}: this version of Codex does not support it"
            ),
            format!(
                "Ignoring requirement `enforce_residency` from {source}: this version of Codex does not support it"
            ),
            format!(
                "Ignoring requirement `hooks` from {source}: this version of Codex does not support it"
            ),
            format!(
                "Ignoring requirement `mcp_servers` from {source}: this version of Codex does not support it"
            ),
            format!("Ignoring unknown requirement `mystery` from {source}"),
            format!(
                "Ignoring requirement `rules` from {source}: this version of Codex does not support it"
            ),
        ]
    );
    assert!(
        config.features.enabled("use_legacy_landlock"),
        "`feature_requirements` is the upstream alias of `features`"
    );
}

/// Regression: a CODEX_HOME inside a writable root was writable from the sandbox, so the
/// command could edit the configuration of the next session.
#[test]
fn codex_home_inside_writable_root_was_writable() {
    let env = Env::new();
    let home = env.repo().join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut options = env.options(&["sandbox_mode=workspace-write"]);
    options.codex_home = home.clone();
    let config = load_config(&options).unwrap();
    let policy = &config.sandbox_policy;
    // Hidden, not only read-only (the next session's configuration and the credentials).
    assert_eq!(policy.access_for(&home.join("config.toml")), Access::Deny);
    assert_eq!(
        policy.access_for(&home.join("work.config.toml")),
        Access::Deny
    );
    assert_eq!(policy.access_for(&home.join("auth.json")), Access::Deny);
    assert_eq!(
        policy.access_for(&env.repo().join("main.rs")),
        Access::Write
    );
    let repo_root = policy
        .writable_roots
        .iter()
        .find(|root| root.root == env.repo())
        .unwrap();
    assert!(
        repo_root
            .protected
            .iter()
            .any(|protected| protected.path == home && protected.kind == ProtectedKind::CodexHome)
    );
    // The same through a custom profile with an absolute writable root holding CODEX_HOME.
    let mut options = env.options(&[
        "default_permissions=\"x\"",
        "permissions.x.filesystem={\":root\"=\"read\", \"BASE\"=\"write\"}",
    ]);
    options.codex_home = home.clone();
    let config = load_config(&options).unwrap();
    assert_eq!(
        config.sandbox_policy.access_for(&home.join("config.toml")),
        Access::Deny
    );
    assert_eq!(
        config.sandbox_policy.access_for(&home.join("auth.json")),
        Access::Deny
    );
}

/// Regression: built-in profiles are not subject to `allowed_permissions` (as upstream);
/// `allowed_sandbox_modes` is what constrains them.
#[test]
fn builtin_profiles_bypass_allowed_permissions_but_not_allowed_sandbox_modes() {
    let env = Env::new();
    env.requirements(
        "allowed_permissions = ['locked']\nallowed_sandbox_modes = ['read-only', 'workspace-write']\n[permissions.locked.filesystem]\n':root' = 'read'\n",
    );
    let config = env.load(&["default_permissions=':danger-full-access'"]);
    assert_eq!(config.sandbox_policy.enforcement, Enforcement::Managed);
    assert_eq!(config.sandbox_policy.profile, ":read-only");
    let config = env.load(&["default_permissions=':workspace'"]);
    assert_eq!(config.sandbox_policy.profile, ":workspace");
}

/// Regression: a workspace path with glob characters (`~/Project [2024]`) was taken as a glob,
/// so the default `:workspace` failed and deny globs below it matched the wrong files.
#[cfg(unix)]
#[test]
fn workspace_path_with_glob_characters_was_treated_as_a_glob() {
    let env = Env::new();
    let cwd = env.base.join("proj[1] *?");
    std::fs::create_dir_all(cwd.join(".git")).unwrap();
    env.write(
        "home/.codex/config.toml",
        &format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            cwd.display()
        ),
    );
    let mut options = env.options(&[]);
    options.cwd = cwd.clone();
    let config = load_config(&options).unwrap();
    assert_eq!(config.sandbox_policy.profile, ":workspace");
    assert_eq!(
        config.sandbox_policy.access_for(&cwd.join("f")),
        Access::Write
    );
    assert_eq!(
        config.sandbox_policy.access_for(&cwd.join(".git/config")),
        Access::Read
    );

    let mut options = env.options(&[
        "default_permissions=\"x\"",
        "permissions.x.filesystem={\":root\"=\"read\", \":workspace_roots\"={\".\"=\"write\", \"**/*.env\"=\"deny\"}}",
    ]);
    options.cwd = cwd.clone();
    let config = load_config(&options).unwrap();
    assert_eq!(
        glob_texts(&config.sandbox_policy),
        vec![format!(
            "{}/proj\\[1\\] \\*\\?/**/*.env",
            env.base.display()
        )]
    );
}

/// Regression: a non-UTF-8 workspace root turned deny globs into lossy no-ops.
#[cfg(unix)]
#[test]
fn non_utf8_workspace_made_deny_globs_no_ops() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let cwd = env.base.join(std::ffi::OsStr::from_bytes(b"proj\xff"));
    std::fs::create_dir_all(&cwd).unwrap();
    let mut options = env.options(&[
        "default_permissions=\"x\"",
        "permissions.x.filesystem={\":root\"=\"read\", \":workspace_roots\"={\".\"=\"write\", \"**/*.env\"=\"deny\"}}",
    ]);
    options.cwd = cwd.clone();
    let error = load_config(&options).unwrap_err();
    assert!(matches!(error, LoadConfigError::Permissions(_)), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "cannot build a deny glob below `{}`: the path is not valid UTF-8; rename the directory or deny an exact path instead of a glob",
            cwd.display()
        )
    );
    // Without a glob the non-UTF-8 workspace works.
    let mut options = env.options(&["sandbox_mode=workspace-write"]);
    options.cwd = cwd.clone();
    let config = load_config(&options).unwrap();
    assert_eq!(
        config.sandbox_policy.access_for(&cwd.join("f")),
        Access::Write
    );
}

/// Regression: `"/**" = "write"` became a rule on the empty path.
#[test]
fn root_subtree_glob_became_an_empty_path_rule() {
    let env = Env::new();
    let config = env.load(&[
        "default_permissions=\"x\"",
        "permissions.x.filesystem={\"/**\"=\"read\", \":workspace_roots\"={\"**\"=\"write\"}}",
    ]);
    let policy = &config.sandbox_policy;
    assert!(
        policy.rules.iter().all(|rule| rule.path.is_absolute()),
        "{:?}",
        policy.rules
    );
    assert_eq!(policy.access_for(Path::new("/etc/passwd")), Access::Read);
    assert_eq!(policy.access_for(&env.repo().join("f")), Access::Write);
}

/// Regression: a FIFO where a configuration file is expected hung the loader; an untrusted
/// project's configuration was read at all.
#[cfg(unix)]
#[test]
fn fifo_config_files_hung_the_loader() {
    fn mkfifo(path: &Path) {
        let text = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `text` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(text.as_ptr(), 0o600) }, 0);
    }
    fn load_within_timeout(options: crate::LoaderOptions) -> Result<crate::Config, String> {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(load_config(&options).map_err(|error| error.to_string()));
        });
        receiver
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("load_config blocked")
    }
    let env = Env::new();
    // Untrusted project: its config is not opened at all.
    std::fs::create_dir_all(env.repo().join(".codex")).unwrap();
    mkfifo(&env.repo().join(".codex/config.toml"));
    let config = load_within_timeout(env.options(&[])).unwrap();
    assert!(
        config
            .layers
            .iter()
            .any(|layer| layer.disabled_reason.is_some())
    );
    // Trusted: a FIFO is an error, not a hang.
    env.trust_repo("trusted");
    let error = load_within_timeout(env.options(&[])).unwrap_err();
    assert_eq!(
        error,
        format!(
            "Failed to read project config file {}: not a regular file",
            env.repo().join(".codex/config.toml").display()
        )
    );
    // Untrusted worktree pointer chain with a FIFO `commondir`.
    env.write("evil/.git", "gitdir: x\n");
    std::fs::create_dir_all(env.base.join("evil/x")).unwrap();
    mkfifo(&env.base.join("evil/x/commondir"));
    let mut options = env.options(&[]);
    options.cwd = env.base.join("evil");
    assert!(load_within_timeout(options).is_ok());
}

/// Regression: configuration files had no size cap.
#[test]
fn oversized_config_file_was_read_whole() {
    let env = Env::new();
    let padding = format!("# {}\n", "x".repeat(1 << 20));
    let path = env.write("home/.codex/config.toml", &padding);
    assert_eq!(
        env.error(&env.options(&[])),
        format!(
            "Failed to read config file {}: the file is larger than the 1048576-byte limit",
            path.display()
        )
    );
}

/// Regression: an unknown `:token` with a table value was an error instead of the
/// forward-compatible warning.
#[test]
fn unknown_token_with_table_value_was_an_error() {
    let env = Env::new();
    let config = env.load(&[
        "default_permissions=\"x\"",
        "permissions.x.filesystem={\":root\"=\"read\", \":future\"={\"a\"=\"read\"}}",
    ]);
    assert_eq!(
        config.warnings,
        vec![
            "Configured filesystem path `:future` is not recognized by this version of Codex and will be ignored. Upgrade Codex to use it."
        ]
    );
    assert_eq!(
        env.error(&env.options(&[
            "default_permissions=\"x\"",
            "permissions.x.filesystem={\":root\"={\"a\"=\"read\"}}",
        ])),
        "filesystem path `:root` does not support nested entries"
    );
}

/// The deny globs as written (they are parsed into `DenyGlob`s).
fn glob_texts(policy: &codex_sandbox_policy::SandboxPolicy) -> Vec<String> {
    policy
        .deny_globs
        .iter()
        .map(|glob| glob.as_str().to_string())
        .collect()
}

/// Red-team finding: trust was looked up by the path as given, and the project root found from
/// it lexically. A symlink the sandboxed command can write (`repo/checkout -> ../evil`) then
/// made a directory it controls look like the trusted project: its `.codex/config.toml` loaded
/// as a trusted layer. Trust and layers now go by the real path; the entry that names the link
/// yields a warning instead.
#[cfg(unix)]
#[test]
fn symlink_made_an_untrusted_directory_look_trusted() {
    let env = Env::new();
    env.write("evil/.codex/config.toml", "model = 'evil'\n");
    std::os::unix::fs::symlink(env.base.join("evil"), env.repo().join("checkout")).unwrap();
    env.write(
        "home/.codex/config.toml",
        "[projects.\"BASE/repo/checkout\"]\ntrust_level = \"trusted\"\n",
    );
    let mut options = env.options(&[]);
    options.cwd = env.repo().join("checkout");
    let config = load_config(&options).unwrap();
    assert_eq!(config.project_trust, crate::ProjectTrust::Unknown);
    assert_eq!(config.merged.get("model"), None, "the layer was not loaded");
    let evil = env.base.join("evil");
    assert!(
        config.warnings.contains(&format!(
            "`[projects.\"{}\"]` reaches this project through a symlink and is not used: trust is looked up by the real path; add `[projects.\"{}\"]` with `trust_level = \"trusted\"` to trust it",
            env.repo().join("checkout").display(),
            evil.display()
        )),
        "{:?}",
        config.warnings
    );
    // The real path, written as such, is trusted (control: the layer is loadable).
    env.write(
        "home/.codex/config.toml",
        "[projects.\"BASE/evil\"]\ntrust_level = \"trusted\"\n",
    );
    let config = load_config(&options).unwrap();
    assert_eq!(config.project_trust, crate::ProjectTrust::Trusted);
    assert_eq!(
        config.merged.get("model").and_then(toml::Value::as_str),
        Some("evil")
    );
}

/// Same finding through the project root: with a marker other than `.git`, the root was the
/// lexical ancestor holding it (`repo`, trusted) while the layers were read through the link.
#[cfg(unix)]
#[test]
fn symlink_below_a_trusted_root_lent_it_its_trust() {
    let env = Env::new();
    std::fs::create_dir_all(env.repo().join(".hg")).unwrap();
    env.write("evil/.codex/config.toml", "model = 'evil'\n");
    std::os::unix::fs::symlink(env.base.join("evil"), env.repo().join("sub/link")).unwrap();
    env.write(
        "home/.codex/config.toml",
        "project_root_markers = ['.hg']\n[projects.\"BASE/repo\"]\ntrust_level = \"trusted\"\n",
    );
    let mut options = env.options(&[]);
    options.cwd = env.repo().join("sub/link");
    let config = load_config(&options).unwrap();
    assert_eq!(config.project_trust, crate::ProjectTrust::Unknown);
    assert_eq!(config.project_root, env.base.join("evil"));
    assert_eq!(config.merged.get("model"), None);
    // Control: the real directory below the trusted root keeps its trust.
    options.cwd = env.repo().join("sub");
    let config = load_config(&options).unwrap();
    assert_eq!(config.project_trust, crate::ProjectTrust::Trusted);
}

/// An `untrusted` entry written through a symlink still applies to the real directory (following
/// a link may only take trust away), so a symlinked spelling cannot dodge it.
#[cfg(unix)]
#[test]
fn untrusted_entry_through_a_symlink_still_applies() {
    let env = Env::new();
    std::os::unix::fs::symlink(env.repo(), env.base.join("alias")).unwrap();
    env.write(
        "home/.codex/config.toml",
        "[projects.\"BASE/alias\"]\ntrust_level = \"untrusted\"\n",
    );
    let config = env.load(&[]);
    assert_eq!(config.project_trust, crate::ProjectTrust::Untrusted);
}
