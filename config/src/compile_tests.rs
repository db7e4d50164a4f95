use codex_sandbox_policy::{ProtectedKind, WritableRoot};

use super::*;
use crate::permissions::resolve_profile;

struct Fixture {
    _dir: tempfile::TempDir,
    base: PathBuf,
    context: CompileContext,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    for sub in ["repo/.git", "home/.codex", "tmp", "slash_tmp"] {
        std::fs::create_dir_all(base.join(sub)).unwrap();
    }
    let context = CompileContext {
        cwd: base.join("repo"),
        codex_home: base.join("home/.codex"),
        tmpdir: Some(base.join("tmp")),
        refused_tmpdir: None,
        slash_tmp: Some(base.join("slash_tmp")),
        homes: vec![base.join("home")],
        codex_home_spelled: None,
        confinement_checks: true,
        codex_home_link_targets: Vec::new(),
    };
    Fixture {
        _dir: dir,
        base,
        context,
    }
}

fn rules(policy: &SandboxPolicy) -> Vec<(PathBuf, Access)> {
    policy
        .rules
        .iter()
        .map(|rule| (rule.path.clone(), rule.access))
        .collect()
}

fn named(catalog_text: &str, name: &str, fixture: &Fixture) -> (SandboxPolicy, Vec<String>) {
    let text = catalog_text.replace("BASE", &fixture.base.to_string_lossy());
    let catalog: Table = toml::from_str(&text).unwrap();
    let profile = resolve_profile(name, Some(&catalog)).unwrap();
    let mut warnings = Vec::new();
    let policy = compile_profile(&profile, &fixture.context, &mut warnings).unwrap();
    (policy, warnings)
}

fn named_error(catalog_text: &str, fixture: &Fixture) -> String {
    let catalog: Table = toml::from_str(catalog_text).unwrap();
    let profile = resolve_profile("p", Some(&catalog)).unwrap();
    compile_profile(&profile, &fixture.context, &mut Vec::new())
        .unwrap_err()
        .to_string()
}

#[test]
fn legacy_read_only() {
    let fixture = fixture();
    let policy = compile_legacy(
        SandboxMode::ReadOnly,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(policy.profile, "read-only");
    assert_eq!(policy.enforcement, Enforcement::Managed);
    assert_eq!(
        rules(&policy),
        vec![
            (PathBuf::from("/"), Access::Read),
            (fixture.base.join("home/.codex"), Access::Deny),
            (fixture.base.join("home/.codex/auth.json"), Access::Deny),
        ]
    );
    assert!(policy.writable_roots.is_empty());
    assert_eq!(policy.network, NetworkAccess::Restricted);
}

#[test]
fn legacy_workspace_write_roots_tmp_and_network() {
    let fixture = fixture();
    let settings = WorkspaceWriteSettings {
        writable_roots: vec![fixture.base.join("extra/../extra2")],
        network_access: true,
        exclude_tmpdir_env_var: false,
        exclude_slash_tmp: true,
    };
    let policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &settings,
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(policy.profile, "workspace-write");
    assert_eq!(
        rules(&policy),
        vec![
            (PathBuf::from("/"), Access::Read),
            (fixture.base.join("extra2"), Access::Write),
            (fixture.base.join("home/.codex"), Access::Deny),
            (fixture.base.join("home/.codex/auth.json"), Access::Deny),
            (fixture.base.join("repo"), Access::Write),
            (fixture.base.join("tmp"), Access::Write),
        ]
    );
    assert_eq!(policy.network, NetworkAccess::Enabled);
    let repo = policy
        .writable_roots
        .iter()
        .find(|root| root.root == fixture.base.join("repo"))
        .unwrap();
    assert_eq!(
        repo.protected
            .iter()
            .map(|p| p.path.clone())
            .collect::<Vec<_>>(),
        vec![
            fixture.base.join("repo/.agents"),
            fixture.base.join("repo/.codex"),
            fixture.base.join("repo/.git")
        ],
        "every metadata name is protected, existing or not"
    );
    let extra = policy
        .writable_roots
        .iter()
        .find(|root| root.root == fixture.base.join("extra2"))
        .unwrap();
    assert_eq!(
        extra
            .protected
            .iter()
            .map(|p| p.path.clone())
            .collect::<Vec<_>>(),
        vec![
            fixture.base.join("extra2/.agents"),
            fixture.base.join("extra2/.codex"),
            fixture.base.join("extra2/.git")
        ],
        "extra writable roots are protected like the cwd"
    );
}

#[test]
fn full_access_keeps_auth_json_masked() {
    let fixture = fixture();
    let profile = resolve_profile(":danger-full-access", None).unwrap();
    let policy = compile_profile(&profile, &fixture.context, &mut Vec::new()).unwrap();
    assert_eq!(policy.enforcement, Enforcement::FullAccess);
    assert_eq!(policy.profile, ":danger-full-access");
    assert_eq!(
        rules(&policy),
        vec![
            (PathBuf::from("/"), Access::Write),
            (fixture.base.join("home/.codex"), Access::Deny),
            (fixture.base.join("home/.codex/auth.json"), Access::Deny),
        ]
    );
    assert_eq!(policy.writable_roots.len(), 1);
    assert_eq!(policy.network, NetworkAccess::Enabled);
    let legacy = compile_legacy(
        SandboxMode::DangerFullAccess,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(legacy.profile, "danger-full-access");
    assert_eq!(legacy.rules, policy.rules);
}

#[test]
fn builtin_workspace_profile() {
    let fixture = fixture();
    let profile = resolve_profile(":workspace", None).unwrap();
    let policy = compile_profile(&profile, &fixture.context, &mut Vec::new()).unwrap();
    let repo = fixture.base.join("repo");
    assert_eq!(
        rules(&policy),
        vec![
            (PathBuf::from("/"), Access::Read),
            (fixture.base.join("home/.codex"), Access::Deny),
            (fixture.base.join("home/.codex/auth.json"), Access::Deny),
            (repo.clone(), Access::Write),
            (repo.join(".agents"), Access::Read),
            (repo.join(".codex"), Access::Read),
            (repo.join(".git"), Access::Read),
            (fixture.base.join("slash_tmp"), Access::Write),
            (fixture.base.join("tmp"), Access::Write),
        ]
    );
    assert_eq!(
        policy.writable_roots[0],
        WritableRoot {
            root: repo.clone(),
            protected: codex_sandbox_policy::protected_paths(&repo, &repo),
        }
    );
    assert_eq!(policy.access_for(&repo.join(".codex/x")), Access::Read);
    assert_eq!(policy.access_for(&repo.join("src/main.rs")), Access::Write);
}

#[test]
fn implicit_workspace_honours_workspace_write_settings() {
    let fixture = fixture();
    let settings = WorkspaceWriteSettings {
        writable_roots: vec![fixture.base.join("extra")],
        network_access: true,
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: true,
    };
    let profile = ResolvedProfile {
        name: ":workspace".into(),
        builtin: None,
        body: implicit_workspace_body(&settings),
    };
    let policy = compile_profile(&profile, &fixture.context, &mut Vec::new()).unwrap();
    assert_eq!(
        policy.access_for(&fixture.base.join("extra/f")),
        Access::Write
    );
    assert_eq!(
        policy.access_for(&fixture.base.join("extra/.git")),
        Access::Read
    );
    assert_eq!(policy.access_for(&fixture.base.join("tmp/f")), Access::Read);
    assert_eq!(
        policy.access_for(&fixture.base.join("slash_tmp/f")),
        Access::Read
    );
    assert_eq!(policy.network, NetworkAccess::Enabled);
}

#[test]
fn named_profile_entries_globs_sockets_and_ties() {
    let fixture = fixture();
    let (policy, warnings) = named(
        r#"
[p]
workspace_roots = { "../other" = true, "../off" = false }
network = { enabled = true, unix_sockets = { "/run/a.sock" = "allow", "/run/b.sock" = "deny" } }
[p.filesystem]
":minimal" = "read"
"BASE/data" = "read"
"BASE/data/./x/.." = "write"
"BASE/data/private" = "none"
"BASE/tree/**" = "write"
"BASE/**/*.pem" = "deny"
glob_scan_max_depth = 3
":future_token" = "read"
[p.filesystem.":workspace_roots"]
"." = "write"
"**/*.env" = "deny"
"build" = "read"
"#,
        "p",
        &fixture,
    );
    let base = &fixture.base;
    assert_eq!(
        rules(&policy),
        vec![
            (base.join("data"), Access::Write),
            (base.join("data/private"), Access::Deny),
            (base.join("home/.codex"), Access::Deny),
            (base.join("home/.codex/auth.json"), Access::Deny),
            (base.join("other"), Access::Write),
            (base.join("other/build"), Access::Read),
            (base.join("repo"), Access::Write),
            (base.join("repo/build"), Access::Read),
            (base.join("tree"), Access::Write),
        ]
    );
    assert!(policy.platform_defaults);
    assert_eq!(
        glob_texts(&policy),
        vec![
            format!("{}/**/*.pem", base.display()),
            format!("{}/other/**/*.env", base.display()),
            format!("{}/repo/**/*.env", base.display()),
        ]
    );
    assert_eq!(policy.glob_scan_max_depth, Some(3));
    assert_eq!(policy.unix_sockets, vec![PathBuf::from("/run/a.sock")]);
    assert_eq!(policy.network, NetworkAccess::Enabled);
    assert_eq!(
        warnings,
        vec![
            "Configured filesystem path `:future_token` is not recognized by this version of Codex and will be ignored. Upgrade Codex to use it."
        ]
    );
    assert_eq!(
        policy
            .writable_roots
            .iter()
            .map(|root| root.root.clone())
            .collect::<Vec<_>>(),
        vec![
            base.join("data"),
            base.join("other"),
            base.join("repo"),
            base.join("tree")
        ]
    );
}

#[test]
fn equal_paths_deny_beats_write_beats_read() {
    let fixture = fixture();
    let (policy, _) = named(
        "[p.filesystem]\n'/a' = 'read'\n'/a/.' = 'write'\n'/b' = 'write'\n'/b/x/..' = 'deny'",
        "p",
        &fixture,
    );
    assert_eq!(
        rules(&policy)[..2],
        [
            (PathBuf::from("/a"), Access::Write),
            (PathBuf::from("/b"), Access::Deny)
        ]
    );
}

#[test]
fn codex_home_is_hidden_unless_a_profile_names_it() {
    let fixture = fixture();
    let auth = fixture.base.join("home/.codex/auth.json");
    let config = fixture.base.join("home/.codex/config.toml");
    let (policy, _) = named("[p.filesystem]\n'BASE/home/.codex' = 'read'", "p", &fixture);
    assert_eq!(policy.access_for(&config), Access::Read);
    assert_eq!(
        policy.access_for(&auth),
        Access::Deny,
        "the credentials need their own entry"
    );
    let (policy, _) = named(
        "[p.filesystem]\n'BASE/home/.codex/auth.json' = 'write'",
        "p",
        &fixture,
    );
    assert_eq!(policy.access_for(&auth), Access::Write);
    assert_eq!(policy.access_for(&config), Access::Deny);
    let sessions = fixture.base.join("home/.codex/sessions");
    let (policy, _) = named(
        "[p.filesystem]\n':root' = 'read'\n'BASE/home/.codex/sessions' = 'read'",
        "p",
        &fixture,
    );
    assert_eq!(policy.access_for(&sessions.join("x.jsonl")), Access::Read);
    assert_eq!(policy.access_for(&config), Access::Deny);
    let (policy, _) = named("[p.filesystem]\n':root' = 'write'", "p", &fixture);
    assert_eq!(
        policy.access_for(&auth),
        Access::Deny,
        "tokens do not exempt"
    );
    assert_eq!(policy.access_for(&config), Access::Deny);
}

#[test]
fn profile_without_recognized_entries_warns() {
    let fixture = fixture();
    let (policy, warnings) = named("[p]\ndescription = 'x'", "p", &fixture);
    assert_eq!(policy.access_for(Path::new("/etc")), Access::Deny);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with(
        "Permissions profile `p` does not define any recognized filesystem entries for this version of Codex. Filesystem access will remain restricted."
    ));
}

#[test]
fn filesystem_errors() {
    let fixture = fixture();
    assert_eq!(
        named_error("[p.filesystem]\n'relative/x' = 'read'", &fixture),
        "filesystem path `relative/x` must be absolute, use `~/...`, or start with `:`"
    );
    assert_eq!(
        named_error("[p.filesystem]\n':root' = { '.' = 'read' }", &fixture),
        "filesystem path `:root` does not support nested entries"
    );
    assert_eq!(
        named_error(
            "[p.filesystem]\n':workspace_roots' = { '../x' = 'read' }",
            &fixture
        ),
        "filesystem subpath `../x` must be a descendant path without `.` or `..` components"
    );
    assert_eq!(
        named_error("[p.filesystem]\n'/a/*.txt' = 'read'", &fixture),
        "filesystem glob path `/a/*.txt` only supports `deny` access; use an exact path or trailing `/**` for a whole subtree"
    );
    assert_eq!(
        named_error("[p.network.unix_sockets]\n'rel.sock' = 'allow'", &fixture),
        "unix socket path `rel.sock` must be absolute or use `~/...`"
    );
}

#[test]
fn requirement_deny_read_adds_rules_and_globs() {
    let fixture = fixture();
    let mut policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    let repo = fixture.base.join("repo");
    add_deny_read(
        &mut policy,
        &[
            repo.to_string_lossy().into_owned(),
            "/etc/**/*.key".to_string(),
        ],
        &fixture.context,
    )
    .unwrap();
    assert_eq!(policy.access_for(&repo.join("x")), Access::Deny);
    assert!(!policy.writable_roots.iter().any(|root| root.root == repo));
    assert_eq!(glob_texts(&policy), vec!["/etc/**/*.key".to_string()]);
}

#[test]
fn gitdir_pointer_target_is_protected() {
    let fixture = fixture();
    let repo = fixture.base.join("repo");
    std::fs::remove_dir(repo.join(".git")).unwrap();
    let target = fixture.base.join("main/.git/worktrees/repo");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(repo.join(".git"), "gitdir: ../main/.git/worktrees/repo\n").unwrap();
    let policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    let root = policy
        .writable_roots
        .iter()
        .find(|root| root.root == repo)
        .unwrap();
    assert!(
        root.protected
            .iter()
            .any(|p| p.path == target && p.kind == ProtectedKind::GitDirTarget)
    );
    assert!(policy.is_protected(&target.join("HEAD")));
}

/// Regression (review finding 1): `TMPDIR=/` (or a home directory or one of its ancestors) made
/// `:tmpdir` and legacy workspace-write grant the whole filesystem or the user's dotfiles.
#[test]
fn tmpdir_that_is_root_or_holds_home_was_made_writable() {
    let homes = [PathBuf::from("/home/me")];
    for refused in ["/", "/home", "/home/me", "/home/./me/..", "/../"] {
        assert!(
            is_root_or_home_ancestor(Path::new(refused), &homes),
            "{refused}"
        );
    }
    for accepted in ["/tmp", "/home/me/tmp", "/var/folders/x/T"] {
        assert!(
            !is_root_or_home_ancestor(Path::new(accepted), &homes),
            "{accepted}"
        );
    }

    let mut fixture = fixture();
    fixture.context.tmpdir = None;
    fixture.context.refused_tmpdir = Some(PathBuf::from("/"));
    let warning = "`$TMPDIR` is `/`, which is the filesystem root or contains a home directory; it is not made writable. Point `TMPDIR` at a dedicated temporary directory";
    let mut warnings = Vec::new();
    let policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut warnings,
    )
    .unwrap();
    assert!(!policy.has_full_write());
    assert_eq!(policy.access_for(Path::new("/etc/x")), Access::Read);
    assert_eq!(warnings, vec![warning]);

    let profile = resolve_profile(":workspace", None).unwrap();
    let mut warnings = Vec::new();
    let policy = compile_profile(&profile, &fixture.context, &mut warnings).unwrap();
    assert!(!policy.has_full_write());
    assert_eq!(warnings, vec![warning]);

    // Not mentioned when nothing asks for `$TMPDIR`.
    let settings = WorkspaceWriteSettings {
        exclude_tmpdir_env_var: true,
        ..WorkspaceWriteSettings::default()
    };
    let mut warnings = Vec::new();
    compile_legacy(
        SandboxMode::WorkspaceWrite,
        &settings,
        &fixture.context,
        &mut warnings,
    )
    .unwrap();
    assert!(warnings.is_empty());
}

/// Regression (review finding 9): the CODEX_HOME carve-out also applies when the writable root
/// reaches CODEX_HOME through a symlink.
#[cfg(unix)]
#[test]
fn codex_home_behind_a_symlinked_root_is_protected() {
    let mut fixture = fixture();
    let real = fixture.base.join("real");
    std::fs::create_dir_all(real.join("codex")).unwrap();
    std::os::unix::fs::symlink(&real, fixture.base.join("link")).unwrap();
    fixture.context.codex_home = real.join("codex");
    let settings = WorkspaceWriteSettings {
        writable_roots: vec![fixture.base.join("link")],
        ..WorkspaceWriteSettings::default()
    };
    let policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &settings,
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(
        policy.access_for(&fixture.base.join("link/codex/config.toml")),
        Access::Read
    );
    assert_eq!(
        policy.access_for(&fixture.base.join("link/other")),
        Access::Write
    );
}

/// Regression (review finding 13): glob characters are only syntax in what the user wrote;
/// there, a backslash escapes them (`\[` is a literal bracket).
#[cfg(unix)]
#[test]
fn escaped_glob_characters_in_keys_are_literal() {
    let fixture = fixture();
    let (policy, _) = named(
        r#"
[p.filesystem]
":root" = "read"
'/data/\[raw\]' = "deny"
'/data/\[out\]/**' = "write"
'/data/[ab]/*.key' = "deny"
"#,
        "p",
        &fixture,
    );
    assert_eq!(policy.access_for(Path::new("/data/[raw]/x")), Access::Deny);
    assert_eq!(policy.access_for(Path::new("/data/[out]/x")), Access::Write);
    assert_eq!(glob_texts(&policy), vec!["/data/[ab]/*.key".to_string()]);
}

/// The deny globs as written (they are parsed into `DenyGlob`s).
fn glob_texts(policy: &codex_sandbox_policy::SandboxPolicy) -> Vec<String> {
    policy
        .deny_globs
        .iter()
        .map(|glob| glob.as_str().to_string())
        .collect()
}

/// Red-team finding: workspace-write started in `~` (or `/`, or an ancestor of a home
/// directory) made the whole home writable through the implicit workspace root, so a sandboxed
/// command could plant `~/.bashrc` for the next host shell. Refused, for the legacy mode, the
/// implicit `:workspace` profile and `:cwd`; a root the user names stays allowed.
#[test]
fn implicit_workspace_root_that_is_root_or_holds_home_is_refused() {
    let mut fixture = fixture();
    let home = fixture.base.join("home");
    for cwd in [home.clone(), fixture.base.clone(), PathBuf::from("/")] {
        fixture.context.cwd = cwd.clone();
        let error = compile_legacy(
            SandboxMode::WorkspaceWrite,
            &WorkspaceWriteSettings::default(),
            &fixture.context,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(
            matches!(&error, PermissionsError::BroadWorkingDirectory(shown) if *shown == cwd.display().to_string()),
            "{error}"
        );
        assert!(error.to_string().contains("\n\nhint: "), "{error}");
        let implicit = ResolvedProfile {
            name: ":workspace".into(),
            builtin: None,
            body: implicit_workspace_body(&WorkspaceWriteSettings::default()),
        };
        assert!(matches!(
            compile_profile(&implicit, &fixture.context, &mut Vec::new()),
            Err(PermissionsError::BroadWorkingDirectory(_))
        ));
        let builtin = resolve_profile(":workspace", None).unwrap();
        assert!(matches!(
            compile_profile(&builtin, &fixture.context, &mut Vec::new()),
            Err(PermissionsError::BroadWorkingDirectory(_))
        ));
        let catalog: Table =
            toml::from_str("[p.filesystem]\n\":root\" = \"read\"\n\":cwd\" = \"write\"\n").unwrap();
        let profile = resolve_profile("p", Some(&catalog)).unwrap();
        assert!(matches!(
            compile_profile(&profile, &fixture.context, &mut Vec::new()),
            Err(PermissionsError::BroadWorkingDirectory(_))
        ));
        // Read-only stays available there.
        compile_legacy(
            SandboxMode::ReadOnly,
            &WorkspaceWriteSettings::default(),
            &fixture.context,
            &mut Vec::new(),
        )
        .unwrap();
        compile_profile(
            &resolve_profile(":read-only", None).unwrap(),
            &fixture.context,
            &mut Vec::new(),
        )
        .unwrap();
    }

    // Named explicitly: the user's choice.
    fixture.context.cwd = home.clone();
    let named = WorkspaceWriteSettings {
        writable_roots: vec![home.clone()],
        ..WorkspaceWriteSettings::default()
    };
    let policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &named,
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    assert!(policy.writable_roots.iter().any(|root| root.root == home));
    let implicit = ResolvedProfile {
        name: ":workspace".into(),
        builtin: None,
        body: implicit_workspace_body(&named),
    };
    compile_profile(&implicit, &fixture.context, &mut Vec::new()).unwrap();
    let catalog: Table = toml::from_str(&format!(
        "[p.filesystem]\n\":root\" = \"read\"\n\"{}\" = \"write\"\n",
        home.display()
    ))
    .unwrap();
    let profile = resolve_profile("p", Some(&catalog)).unwrap();
    compile_profile(&profile, &fixture.context, &mut Vec::new()).unwrap();

    // A project directory below the home is fine, and so is a subdirectory of a broad cwd.
    fixture.context.cwd = home.join("project");
    compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    fixture.context.cwd = home.clone();
    let catalog: Table = toml::from_str(
        "[p.filesystem]\n\":root\" = \"read\"\n\":workspace_roots\" = { \".\" = \"read\", \"src\" = \"write\" }\n",
    )
    .unwrap();
    let profile = resolve_profile("p", Some(&catalog)).unwrap();
    let policy = compile_profile(&profile, &fixture.context, &mut Vec::new()).unwrap();
    assert!(
        policy
            .writable_roots
            .iter()
            .all(|root| root.root != home && root.root.starts_with(&home)),
        "{:?}",
        policy.writable_roots
    );
}

/// Red-team finding: `CODEX_HOME` reached through a symlink inside a writable root let the
/// sandboxed command repoint the link, so the next run kept credentials and read configuration
/// where the command wanted. Refused while the link is writable; a link outside the writable
/// roots (or a read-only policy) is fine.
#[cfg(unix)]
#[test]
fn codex_home_through_a_writable_symlink_is_refused() {
    let mut fixture = fixture();
    let repo = fixture.base.join("repo");
    let real = fixture.base.join("home/.codex");
    let link = repo.join("codex-home");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    fixture.context.codex_home_spelled = Some(link.clone());
    let error = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, PermissionsError::CodexHomeThroughWritableSymlink { link: shown, target }
            if *shown == link.display().to_string() && *target == real.display().to_string()),
        "{error}"
    );
    let builtin = resolve_profile(":workspace", None).unwrap();
    assert!(matches!(
        compile_profile(&builtin, &fixture.context, &mut Vec::new()),
        Err(PermissionsError::CodexHomeThroughWritableSymlink { .. })
    ));
    compile_legacy(
        SandboxMode::ReadOnly,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();

    // A link in a directory the command cannot write, reached through a writable link's
    // target, and a link in a protected carve-out.
    let outside = fixture.base.join("links");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&real, outside.join("codex")).unwrap();
    fixture.context.codex_home_spelled = Some(outside.join("codex"));
    compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    // `repo/up -> ../links`: `repo/up/codex` crosses a writable link first.
    std::os::unix::fs::symlink("../links", repo.join("up")).unwrap();
    fixture.context.codex_home_spelled = Some(repo.join("up/codex"));
    assert!(
        compile_legacy(
            SandboxMode::WorkspaceWrite,
            &WorkspaceWriteSettings::default(),
            &fixture.context,
            &mut Vec::new(),
        )
        .is_err()
    );
    std::os::unix::fs::symlink(&real, repo.join(".git/codex")).unwrap();
    fixture.context.codex_home_spelled = Some(repo.join(".git/codex"));
    compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
}

/// An `auth.json` that is a symlink to a file outside `$CODEX_HOME`: masking the name leaves
/// the target readable (and, in a writable root, replaceable). Refused under every policy; a
/// link to a file inside `$CODEX_HOME` is hidden with it.
#[cfg(unix)]
#[test]
fn credentials_symlinked_out_of_codex_home_are_refused() {
    let fixture = fixture();
    let auth = fixture.context.codex_home.join("auth.json");
    let target = fixture.base.join("repo/auth.json");
    std::fs::write(&target, "{}").unwrap();
    std::os::unix::fs::symlink(&target, &auth).unwrap();
    for mode in [
        SandboxMode::ReadOnly,
        SandboxMode::WorkspaceWrite,
        SandboxMode::DangerFullAccess,
    ] {
        let error = compile_legacy(
            mode,
            &WorkspaceWriteSettings::default(),
            &fixture.context,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(
            matches!(&error, PermissionsError::CredentialsFileIsSymlink(shown) if *shown == auth.display().to_string()),
            "{error}"
        );
    }
    // Dangling: the command might create the target.
    std::fs::remove_file(&target).unwrap();
    assert!(
        compile_legacy(
            SandboxMode::ReadOnly,
            &WorkspaceWriteSettings::default(),
            &fixture.context,
            &mut Vec::new(),
        )
        .is_err()
    );
    std::fs::remove_file(&auth).unwrap();
    std::fs::write(fixture.context.codex_home.join("auth.real.json"), "{}").unwrap();
    std::os::unix::fs::symlink("auth.real.json", &auth).unwrap();
    compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
}

/// Red-team finding: a `.git` symlink inside a writable root (the root's own or a nested
/// repository's) was protected by mounting over its target, while the link itself stayed a
/// replaceable entry of a writable directory. Refused; a read-only policy is fine.
#[cfg(unix)]
#[test]
fn git_symlinks_inside_writable_roots_are_refused() {
    let fixture = fixture();
    let repo = fixture.base.join("repo");
    std::fs::create_dir_all(fixture.base.join("gitdirs/nested")).unwrap();
    std::fs::create_dir_all(repo.join("vendor")).unwrap();
    std::os::unix::fs::symlink(
        fixture.base.join("gitdirs/nested"),
        repo.join("vendor/.git"),
    )
    .unwrap();
    let error = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, PermissionsError::GitDirSymlink(shown) if *shown == repo.join("vendor/.git").display().to_string()),
        "{error}"
    );
    compile_legacy(
        SandboxMode::ReadOnly,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    // The root's own `.git` as a symlink.
    std::fs::remove_file(repo.join("vendor/.git")).unwrap();
    std::fs::remove_dir_all(repo.join(".git")).unwrap();
    std::os::unix::fs::symlink(fixture.base.join("gitdirs/nested"), repo.join(".git")).unwrap();
    assert!(matches!(
        compile_profile(
            &resolve_profile(":workspace", None).unwrap(),
            &fixture.context,
            &mut Vec::new()
        ),
        Err(PermissionsError::GitDirSymlink(_))
    ));
}

/// A repository in one writable root whose `core.hooksPath` (or included file) lies in another
/// writable root: the other root keeps it read-only too.
#[test]
fn git_pointers_into_another_writable_root_are_protected() {
    let fixture = fixture();
    let repo = fixture.base.join("repo");
    std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let shared = fixture.base.join("slash_tmp");
    std::fs::write(
        repo.join(".git/config"),
        format!(
            "[core]\n\thooksPath = {}\n[include]\n\tpath = {}\n",
            shared.join("hooks").display(),
            shared.join("team.gitconfig").display()
        ),
    )
    .unwrap();
    let policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    assert!(policy.writable_roots.iter().any(|root| root.root == shared));
    for path in [
        shared.join("hooks/pre-commit"),
        shared.join("team.gitconfig"),
    ] {
        assert_eq!(policy.access_for(&path), Access::Read, "{}", path.display());
    }
    assert_eq!(policy.access_for(&shared.join("other")), Access::Write);
}

/// Red-team finding: `config.toml` (or `auth.json`) hard-linked with a file in the workspace is
/// one file under two names; hiding `$CODEX_HOME` hid only one, and a workspace-write command
/// rewrote the configuration the next run loaded. Refused while the second link exists.
#[cfg(unix)]
#[test]
fn hard_linked_files_in_codex_home_are_refused() {
    let fixture = fixture();
    let settings = WorkspaceWriteSettings::default();
    let config = fixture.base.join("home/.codex/config.toml");
    std::fs::write(&config, "model = 'x'\n").unwrap();
    compile_legacy(
        SandboxMode::ReadOnly,
        &settings,
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    std::fs::hard_link(&config, fixture.base.join("repo/config.toml")).unwrap();
    for mode in [SandboxMode::ReadOnly, SandboxMode::WorkspaceWrite] {
        let error = compile_legacy(mode, &settings, &fixture.context, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(&error, PermissionsError::CodexHomeFileHardLinked(shown) if *shown == config.display().to_string()),
            "{error}"
        );
    }
}

/// Red-team finding: a linked worktree as the workspace whose main repository lies in another
/// writable root (`/tmp/main`): the shared git directory's `config` and `hooks` were writable,
/// and the host's next `git status` in the worktree ran what the command put there.
#[test]
fn a_worktrees_common_git_directory_in_another_root_is_protected() {
    let fixture = fixture();
    let repo = fixture.base.join("repo");
    let shared = fixture.base.join("slash_tmp");
    // Deeper than the nested-repository scan looks (as in `/tmp`, which it skips).
    let common = shared.join("a/b/c/d/e/main/.git");
    let linked = common.join("worktrees/wt");
    std::fs::create_dir_all(&linked).unwrap();
    std::fs::write(common.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(linked.join("HEAD"), "ref: refs/heads/wt\n").unwrap();
    std::fs::write(linked.join("commondir"), "../..\n").unwrap();
    std::fs::write(
        linked.join("gitdir"),
        format!("{}\n", repo.join(".git").display()),
    )
    .unwrap();
    std::fs::remove_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join(".git"), format!("gitdir: {}\n", linked.display())).unwrap();
    let policy = compile_legacy(
        SandboxMode::WorkspaceWrite,
        &WorkspaceWriteSettings::default(),
        &fixture.context,
        &mut Vec::new(),
    )
    .unwrap();
    for path in [common.join("config"), common.join("hooks/pre-commit")] {
        assert_eq!(policy.access_for(&path), Access::Read, "{}", path.display());
    }
    assert_eq!(policy.access_for(&shared.join("other")), Access::Write);
}
