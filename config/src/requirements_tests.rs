use std::path::Path;

use codex_sandbox_policy::{Access, Enforcement};

use super::*;
use crate::test_support::Env;
use crate::{ApprovalPolicy, LoadConfigError, RequirementsMode, load_config};

#[test]
fn explicit_sandbox_falls_back_with_warning() {
    let env = Env::new();
    let source = env.requirements("allowed_sandbox_modes = ['read-only']\n");
    let config = env.load(&["sandbox_mode=danger-full-access"]);
    assert_eq!(config.sandbox_policy.profile, "read-only");
    assert_eq!(config.sandbox_policy.enforcement, Enforcement::Managed);
    assert_eq!(
        config.warnings,
        vec![format!(
            "Configured value for `permission_profile` is disallowed by requirements; falling back to required value ReadOnly. Details: invalid value for `sandbox_mode`: `DangerFullAccess` is not in the allowed set [ReadOnly] (set by {source})"
        )]
    );
    let shown = config.render_toml(true);
    assert!(
        shown.contains(&format!(
            "sandbox_mode = \"read-only\"  # from requirements ({source}); configured \"danger-full-access\" from session-flags (-c) is not allowed\n"
        )),
        "{shown}"
    );
}

#[test]
fn implicit_default_falls_back_silently() {
    let env = Env::new();
    env.requirements(
        "allowed_sandbox_modes = ['read-only']\nallowed_approval_policies = ['never']\n",
    );
    env.write(
        "home/.codex/config.toml",
        "[projects.\"BASE/repo\"]\ntrust_level = 'trusted'\n",
    );
    let config = env.load(&[]);
    assert_eq!(config.sandbox_policy.profile, ":read-only");
    assert_eq!(config.active_permission_profile, None);
    assert_eq!(config.approval_policy, ApprovalPolicy::Never);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn explicit_approval_falls_back_with_upstream_warning() {
    let env = Env::new();
    let source = env.requirements("allowed_approval_policies = ['on-request', 'untrusted']\n");
    let config = env.load(&["approval_policy=never"]);
    assert_eq!(config.approval_policy, ApprovalPolicy::OnRequest);
    assert_eq!(
        config.warnings,
        vec![format!(
            "Configured value for `approval_policy` is disallowed by requirements; falling back to required value OnRequest. Details: invalid value for `approval_policy`: `Never` is not in the allowed set [OnRequest, Untrusted] (set by {source})"
        )]
    );
    assert!(env.load(&["approval_policy=untrusted"]).warnings.is_empty());
}

#[test]
fn never_with_disallowed_full_access_is_fatal() {
    let env = Env::new();
    env.requirements("allowed_sandbox_modes = ['read-only', 'workspace-write']\n");
    let error = env.load_error(&["sandbox_mode=danger-full-access", "approval_policy=never"]);
    assert!(matches!(
        error,
        LoadConfigError::Requirements(RequirementsError::NeverWithoutFullAccess)
    ));
    assert!(error.to_string().starts_with(
        "`approval_policy = \"never\"` cannot be used because requirements do not allow `sandbox_mode = \"danger-full-access\"`; Codex would fall back to read-only permissions with approvals disabled."
    ));
}

#[test]
fn malformed_requirements_are_errors() {
    let env = Env::new();
    env.requirements("allowed_sandbox_modes = ['workspace-write']\n");
    assert!(
        env.load_error(&[])
            .to_string()
            .contains("must include 'read-only' to allow any PermissionProfile")
    );
    env.requirements("allowed_approval_policies = []\n");
    assert_eq!(
        env.load_error(&[]).to_string(),
        "field `allowed_approval_policies` cannot be empty"
    );
    env.requirements("allowed_permissions = []\n");
    assert_eq!(
        env.load_error(&[]).to_string(),
        "requirements.toml allowed_permissions must include at least one profile"
    );
    env.requirements("allowed_permissions = ['ghost']\n");
    assert_eq!(
        env.load_error(&[]).to_string(),
        "requirements.toml allowed_permissions refers to undefined profile `ghost`"
    );
    let path = env.requirements("allowed_sandbox_modes = 'read-only'\n");
    assert!(env.load_error(&[]).to_string().starts_with(&format!(
        "{path}:1:25: invalid type for `allowed_sandbox_modes`"
    )));
}

#[test]
fn deny_read_is_a_union_resolved_against_the_file() {
    let env = Env::new();
    env.requirements("[permissions.filesystem]\ndeny_read = ['secrets', '/etc/**/*.key']\n");
    let config = env.load(&["sandbox_mode=workspace-write"]);
    let policy = &config.sandbox_policy;
    assert_eq!(
        policy.access_for(&env.base.join("etc/secrets/a")),
        Access::Deny
    );
    assert_eq!(glob_texts(policy), vec!["/etc/**/*.key".to_string()]);
    // deny_read forbids full access.
    let config = env.load(&["sandbox_mode=danger-full-access"]);
    assert_eq!(config.sandbox_policy.profile, "read-only");
    assert_eq!(config.warnings.len(), 1);
}

#[test]
fn features_and_login_are_pinned() {
    let env = Env::new();
    let source = env.requirements(
        "forced_login_method = 'chatgpt'\nforced_chatgpt_workspace_id = ['org_a', 'org_b']\ncli_auth_credentials_store = 'keyring'\n[features]\nuse_legacy_landlock = true\nmystery = true\n",
    );
    env.write(
        "home/.codex/config.toml",
        "forced_login_method = 'api'\n[features]\nuse_legacy_landlock = false\n",
    );
    let config = env.load(&[]);
    assert!(config.features.enabled("use_legacy_landlock"));
    assert_eq!(
        config.login.forced_login_method,
        Some(crate::LoginMethod::Chatgpt)
    );
    assert_eq!(
        config.login.forced_chatgpt_workspace_id,
        vec!["org_a", "org_b"]
    );
    assert_eq!(
        config.login.credentials_store,
        crate::CredentialsStore::Keyring
    );
    assert_eq!(
        config.warnings,
        vec![
            format!("Ignoring unknown `features` requirement `mystery` from {source}"),
            format!(
                "Configured value for `forced_login_method` is overridden by requirements; using required value \"chatgpt\" instead of \"api\" (set by {source})"
            ),
        ]
    );
}

#[test]
fn string_workspace_id_becomes_a_list() {
    let env = Env::new();
    env.write(
        "home/.codex/config.toml",
        "forced_chatgpt_workspace_id = 'org_x'\n",
    );
    assert_eq!(
        env.load(&[]).login.forced_chatgpt_workspace_id,
        vec!["org_x"]
    );
}

#[test]
fn ignore_mode_skips_requirements_but_keeps_managed_values() {
    let env = Env::new();
    env.requirements("allowed_sandbox_modes = ['read-only']\n");
    env.write("etc/managed_config.toml", "approval_policy = 'never'\n");
    let mut options = env.options(&["sandbox_mode=workspace-write", "approval_policy=on-request"]);
    options.requirements = RequirementsMode::Ignore;
    let config = load_config(&options).unwrap();
    assert_eq!(config.sandbox_policy.profile, "workspace-write");
    assert_eq!(
        config.approval_policy,
        ApprovalPolicy::Never,
        "managed layer still applies"
    );
    assert!(config.warnings.is_empty());
}

#[test]
fn legacy_managed_config_is_reinterpreted() {
    let env = Env::new();
    let managed = env.write(
        "etc/managed_config.toml",
        "sandbox_mode = 'workspace-write'\napproval_policy = 'on-request'\n",
    );
    let source = LegacyManagedRequirements {
        path: managed.clone(),
        config: toml::from_str(&std::fs::read_to_string(&managed).unwrap()).unwrap(),
    };
    let requirements = load_requirements(&[&source]).unwrap();
    assert_eq!(
        requirements.sandbox_modes.map(|modes| modes.value),
        Some(vec![SandboxClass::ReadOnly, SandboxClass::WorkspaceWrite])
    );
    assert_eq!(
        requirements
            .approval_policies
            .map(|policies| policies.value),
        Some(vec![ApprovalPolicy::OnRequest])
    );
    let config = env.load(&[]);
    assert_eq!(config.sandbox_policy.profile, "workspace-write");
    assert_eq!(config.approval_policy, ApprovalPolicy::OnRequest);
}

#[test]
fn allowed_permissions_force_profiles_and_fall_back() {
    let env = Env::new();
    env.requirements(
        "allowed_permissions = ['managed-standard', ':workspace']\n[permissions.managed-standard.filesystem]\n':root' = 'read'\n'/srv' = 'write'\n",
    );
    env.write(
        "home/.codex/config.toml",
        "default_permissions = 'mine'\n[permissions.mine.filesystem]\n':root' = 'write'\n",
    );
    let config = env.load(&[]);
    assert_eq!(config.sandbox_policy.profile, "managed-standard");
    assert_eq!(
        config.sandbox_policy.access_for(Path::new("/srv/a")),
        Access::Write
    );
    assert_eq!(
        config.warnings,
        vec![
            "Configured value for `permission_profile` is disallowed by requirements; falling back from `mine` to required value `managed-standard`."
        ]
    );
    // Built-in names are not subject to the list.
    let config = env.load(&["default_permissions=:read-only"]);
    assert_eq!(config.sandbox_policy.profile, ":read-only");
    // Legacy sandbox_mode is ignored once requirements force profiles.
    std::fs::remove_file(env.base.join("home/.codex/config.toml")).unwrap();
    let config = env.load(&["sandbox_mode=danger-full-access"]);
    assert_eq!(config.sandbox_policy.profile, ":read-only");
    env.write(
        "home/.codex/config.toml",
        "[permissions.managed-standard]\ndescription = 'mine'\n",
    );
    assert_eq!(
        env.load_error(&[]).to_string(),
        "requirements.toml permissions profile `managed-standard` conflicts with a config-defined profile of the same name"
    );
}

/// Regression: `~` in requirements followed `$HOME`, so `HOME=/tmp/x` moved
/// `deny_read = ["~/.aws"]` away from the real credentials. It now covers the account's home
/// (password database) and, when different, `$HOME` as well.
#[cfg(unix)]
#[test]
fn requirement_tilde_followed_the_home_environment_variable() {
    let mut table: toml::Table = toml::from_str(
        "[permissions.filesystem]\ndeny_read = ['~/.aws', '~/keys/*.pem', 'rel', '/abs/[x]', '/lit/\\[y\\]']\n",
    )
    .unwrap();
    let homes = [PathBuf::from("/home/real [1]"), PathBuf::from("/tmp/fake")];
    resolve_deny_read(&mut table, Path::new("/etc/codex"), &homes).unwrap();
    let expected: toml::Table = toml::from_str(
        r#"[permissions.filesystem]
deny_read = [
    '/home/real \[1\]/.aws',
    '/tmp/fake/.aws',
    '/home/real \[1\]/keys/*.pem',
    '/tmp/fake/keys/*.pem',
    '/etc/codex/rel',
    '/abs/[x]',
    '/lit/\[y\]',
]
"#,
    )
    .unwrap();
    assert_eq!(table, expected);
    let mut table: toml::Table =
        toml::from_str("[permissions.filesystem]\ndeny_read = ['~/.aws']\n").unwrap();
    assert_eq!(
        resolve_deny_read(&mut table, Path::new("/"), &[])
            .unwrap_err()
            .to_string(),
        "requirements `deny_read` entry `~/.aws` uses `~`, but no home directory is known for this user; use an absolute path"
    );
    // The account's home always comes first.
    if let Some(account) = crate::home::account_home_dir() {
        assert_eq!(
            crate::paths::requirement_home_dirs().first(),
            Some(&codex_sandbox_policy::normalize(&account))
        );
    }
}

/// Regression: `~` keys of managed permission profiles are pinned to the
/// account's home directory too.
#[test]
fn managed_profile_tilde_keys_followed_the_home_environment_variable() {
    let mut table: toml::Table = toml::from_str(
        "[permissions.managed.filesystem]\n':root' = 'read'\n'~/.ssh' = 'deny'\n'~' = { '.aws' = 'deny' }\n[permissions.managed.network.unix_sockets]\n'~/agent.sock' = 'allow'\n",
    )
    .unwrap();
    pin_profile_home(&mut table, Path::new("/home/real"));
    let expected: toml::Table = toml::from_str(
        "[permissions.managed.filesystem]\n':root' = 'read'\n'/home/real/.ssh' = 'deny'\n'/home/real' = { '.aws' = 'deny' }\n[permissions.managed.network.unix_sockets]\n'/home/real/agent.sock' = 'allow'\n",
    )
    .unwrap();
    assert_eq!(table, expected);
    // A home with glob syntax cannot be written as a literal key: `~` is left alone.
    let mut table: toml::Table =
        toml::from_str("[permissions.managed.filesystem]\n'~/.ssh' = 'deny'\n").unwrap();
    let before = table.clone();
    pin_profile_home(&mut table, Path::new("/home/[x]"));
    assert_eq!(table, before);
}

/// The deny globs as written (they are parsed into `DenyGlob`s).
fn glob_texts(policy: &codex_sandbox_policy::SandboxPolicy) -> Vec<String> {
    policy
        .deny_globs
        .iter()
        .map(|glob| glob.as_str().to_string())
        .collect()
}
