use std::path::Path;

use codex_sandbox_policy::{Access, Enforcement, NetworkAccess};

use crate::test_support::Env;
use crate::types::PermissionSyntax;

#[test]
fn overrides_decide_the_permission_syntax() {
    let env = Env::new();
    env.write(
        "home/.codex/config.toml",
        "default_permissions = 'dev'\n[permissions.dev.filesystem]\n':root' = 'read'\n'/srv' = 'write'\n",
    );
    let config = env.load(&[]);
    assert_eq!(config.permission_syntax, PermissionSyntax::Profiles);
    assert_eq!(config.sandbox_policy.profile, "dev");
    assert_eq!(config.active_permission_profile.as_deref(), Some("dev"));
    assert_eq!(
        config.sandbox_policy.access_for(Path::new("/srv/x")),
        Access::Write
    );

    let config = env.load(&["sandbox_mode=\"read-only\""]);
    assert_eq!(config.permission_syntax, PermissionSyntax::Legacy);
    assert_eq!(config.sandbox_policy.profile, "read-only");

    let config = env.load(&[
        "sandbox_mode=workspace-write",
        "default_permissions=:read-only",
    ]);
    assert_eq!(config.permission_syntax, PermissionSyntax::Profiles);
    assert_eq!(config.sandbox_policy.profile, ":read-only");

    assert_eq!(
        env.error(&env.options(&["default_permissions=nope"])),
        "default_permissions refers to undefined profile `nope` (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`, `dev`)"
    );
    env.write(
        "home/.codex/config.toml",
        "sandbox_mode = 'danger-full-access'\n",
    );
    let config = env.load(&[]);
    assert_eq!(config.permission_syntax, PermissionSyntax::Legacy);
    assert_eq!(config.sandbox_policy.enforcement, Enforcement::FullAccess);
    assert_eq!(
        config
            .sandbox_policy
            .access_for(&env.home().join("auth.json")),
        Access::Deny
    );
    assert_eq!(
        env.error(&env.options(&["default_permissions=nope"])),
        "default_permissions requires a `[permissions]` table: profile `nope` is not defined (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`)"
    );
}

#[test]
fn profiles_without_default_is_an_error() {
    let env = Env::new();
    env.write(
        "home/.codex/config.toml",
        "[permissions.dev.filesystem]\n':root' = 'read'\n",
    );
    assert_eq!(
        env.error(&env.options(&[])),
        "config defines `[permissions]` profiles but does not set `default_permissions`"
    );
    let config = env.load(&["sandbox_mode=read-only"]);
    assert_eq!(config.sandbox_policy.profile, "read-only");
}

#[test]
fn legacy_workspace_write_from_override() {
    let env = Env::new();
    env.write(
        "home/.codex/config.toml",
        "[sandbox_workspace_write]\nnetwork_access = true\nexclude_slash_tmp = true\nexclude_tmpdir_env_var = true\n",
    );
    let config = env.load(&["sandbox_mode=workspace-write"]);
    let policy = &config.sandbox_policy;
    assert_eq!(policy.profile, "workspace-write");
    assert_eq!(policy.network, NetworkAccess::Enabled);
    assert_eq!(policy.access_for(&env.repo().join("f")), Access::Write);
    assert_eq!(
        policy.access_for(&env.repo().join(".codex/f")),
        Access::Read
    );
    assert_eq!(policy.access_for(Path::new("/tmp/f")), Access::Read);
}

#[test]
fn use_legacy_landlock_alias_and_enable() {
    let env = Env::new();
    assert!(
        env.load(&["use_legacy_landlock=true"])
            .features
            .enabled("use_legacy_landlock")
    );
    assert!(
        env.load(&["features.network_proxy=true"])
            .features
            .enabled("network_proxy")
    );
}

#[test]
fn permission_profile_errors_and_warnings_through_the_loader() {
    let env = Env::new();
    env.write(
        "home/.codex/config.toml",
        "default_permissions = 'dev'\n[permissions.dev.filesystem]\n':root' = 'read'\n':later' = 'read'\nglob_scan_max_depth = 0\n",
    );
    let path = env.base.join("home/.codex/config.toml");
    assert_eq!(
        env.error(&env.options(&[])),
        format!(
            "{}:5:23: glob_scan_max_depth must be at least 1\n  |\n5 | glob_scan_max_depth = 0\n  |                       ^",
            path.display()
        )
    );
    let config = env.load(&["permissions.dev.filesystem.glob_scan_max_depth=2"]);
    assert_eq!(config.sandbox_policy.glob_scan_max_depth, Some(2));
    assert_eq!(
        config.warnings,
        vec![
            "Configured filesystem path `:later` is not recognized by this version of Codex and will be ignored. Upgrade Codex to use it."
        ]
    );
    env.write("home/.codex/config.toml", "");
    let config = env.load(&["default_permissions=:danger-no-sandbox"]);
    assert_eq!(config.sandbox_policy.enforcement, Enforcement::FullAccess);
    assert_eq!(config.sandbox_policy.profile, ":danger-full-access");
    assert_eq!(
        env.error(&env.options(&["permissions.x.extends=y", "default_permissions=x"])),
        "permissions profile `x` extends undefined profile `y`"
    );
    assert_eq!(
        env.error(&env.options(&["permissions.:x.extends=y"])),
        "permissions profile `:x` uses a reserved built-in profile prefix"
    );
}

#[test]
fn profile_can_expose_auth_json_explicitly() {
    let env = Env::new();
    let auth = env.home().join("auth.json");
    env.write(
        "home/.codex/config.toml",
        &format!(
            "default_permissions = 'p'\n[permissions.p.filesystem]\n':root' = 'read'\n'{}' = 'read'\n",
            auth.display()
        ),
    );
    assert_eq!(env.load(&[]).sandbox_policy.access_for(&auth), Access::Read);
    assert_eq!(
        env.load(&["default_permissions=:workspace"])
            .sandbox_policy
            .access_for(&auth),
        Access::Deny
    );
    assert_eq!(
        env.load(&["sandbox_mode=read-only"])
            .sandbox_policy
            .access_for(&auth),
        Access::Deny
    );
}
