use std::path::{Path, PathBuf};

use codex_sandbox_policy::Access;

use super::*;
use crate::test_support::Env;
use crate::types::{ApprovalPolicy, PermissionSyntax, ProjectTrust, SandboxMode};

fn text(config: &Config, key: &str) -> Option<String> {
    get_path(&config.merged, &key_path(key)).map(ToString::to_string)
}

#[test]
fn returns_defaults_when_all_layers_missing() {
    let env = Env::new();
    let config = env.load(&[]);
    assert_eq!(config.permission_syntax, PermissionSyntax::Implicit);
    assert_eq!(config.project_trust, ProjectTrust::Unknown);
    assert_eq!(config.sandbox_policy.profile, ":read-only");
    assert_eq!(
        config.sandbox_policy.access_for(Path::new("/usr")),
        Access::Read
    );
    assert_eq!(
        config
            .sandbox_policy
            .access_for(&env.home().join("auth.json")),
        Access::Deny
    );
    assert_eq!(config.approval_policy, ApprovalPolicy::OnRequest);
    assert_eq!(config.login, crate::LoginSettings::default());
    assert!(!config.features.enabled("use_legacy_landlock"));
    assert!(config.warnings.is_empty());
    let names: Vec<&str> = config
        .layers
        .iter()
        .map(|l| l.display_name.as_str())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(names[0], "default");
    assert_eq!(names[3], "session-flags (-c)");
}

#[test]
fn override_errors_use_upstream_prefix() {
    let env = Env::new();
    assert_eq!(
        env.error(&env.options(&["novalue"])),
        "Error parsing -c overrides: Invalid override (missing '='): novalue"
    );
    assert_eq!(
        env.error(&env.options(&["=1"])),
        "Error parsing -c overrides: Empty key in override: =1"
    );
}

#[test]
fn layer_precedence_and_origins() {
    let env = Env::new();
    env.trust_repo("trusted");
    let user = env.base.join("home/.codex/config.toml");
    let mut user_text = std::fs::read_to_string(&user).unwrap();
    user_text.insert_str(
        0,
        "model = 'user'\nreview_model = 'user'\napproval_policy = 'untrusted'\n",
    );
    std::fs::write(&user, user_text).unwrap();
    env.write(
        "etc/config.toml",
        "model = 'system'\nopenai_base_url = 'sys'\nreview_model = 'system'\n",
    );
    env.write("home/.codex/work.config.toml", "model = 'profile'\n");
    env.write(
        "repo/.codex/config.toml",
        "model = 'project'\napproval_policy = 'on-failure'\n",
    );
    env.write("etc/managed_config.toml", "approval_policy = 'never'\n");
    let mut options = env.options(&["model=flags"]);
    options.profile = Some("work".into());
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"flags\""));
    assert_eq!(text(&config, "openai_base_url").as_deref(), Some("\"sys\""));
    assert_eq!(text(&config, "review_model").as_deref(), Some("\"user\""));
    assert_eq!(
        config.approval_policy,
        ApprovalPolicy::Never,
        "managed config wins"
    );
    let origin = |key: &str| config.origins.get(key).cloned().unwrap_or_default();
    assert_eq!(origin("model"), "session-flags (-c)");
    assert_eq!(
        origin("openai_base_url"),
        format!("system ({})", env.base.join("etc/config.toml").display())
    );
    assert_eq!(origin("review_model"), format!("user ({})", user.display()));
    assert_eq!(
        origin("approval_policy"),
        format!(
            "legacy managed_config.toml ({})",
            env.base.join("etc/managed_config.toml").display()
        )
    );
    assert_eq!(origin("cli_auth_credentials_store"), "default");

    // Without -c the profile beats the user file, and the project beats the profile.
    options.raw_overrides.clear();
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"project\""));
    std::fs::remove_file(env.base.join("repo/.codex/config.toml")).unwrap();
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"profile\""));
}

#[test]
fn relative_paths_resolve_against_their_file_or_cwd() {
    let env = Env::new();
    env.trust_repo("trusted");
    let user = env.base.join("home/.codex/config.toml");
    let user_text = std::fs::read_to_string(&user).unwrap();
    std::fs::write(
        &user,
        // `/tmp` and `$TMPDIR` stay read-only: the test's CODEX_HOME lies below them, and a
        // writable root containing CODEX_HOME makes all of CODEX_HOME read-only.
        format!("sandbox_mode = 'workspace-write'\n[sandbox_workspace_write]\nwritable_roots = ['rel']\nexclude_slash_tmp = true\nexclude_tmpdir_env_var = true\n{user_text}"),
    )
    .unwrap();
    env.write("repo/.codex/config.toml", "log_dir = 'logs'\n");
    let config = env.load(&["sqlite_home=run-db", "model_instructions_file=~/x.md"]);
    assert_eq!(
        text(&config, "sandbox_workspace_write.writable_roots"),
        Some(format!("[\"{}\"]", env.home().join("rel").display()))
    );
    assert_eq!(
        text(&config, "log_dir"),
        Some(format!("\"{}\"", env.repo().join(".codex/logs").display()))
    );
    assert_eq!(
        text(&config, "sqlite_home"),
        Some(format!("\"{}\"", env.repo().join("run-db").display()))
    );
    assert_eq!(
        config.sandbox_policy.access_for(&env.home().join("rel/f")),
        Access::Write
    );
    if let Some(home) = std::env::home_dir() {
        assert_eq!(
            text(&config, "model_instructions_file"),
            Some(format!("\"{}\"", home.join("x.md").display()))
        );
    }
}

#[test]
fn project_layers_need_trust() {
    let env = Env::new();
    env.git("repo", &["init", "-q", "."]);
    env.write("repo/.codex/config.toml", "model = 'root'\n");
    env.write("repo/sub/.codex/config.toml", "model = 'sub'\n");
    env.git(
        "repo",
        &["add", ".codex/config.toml", "sub/.codex/config.toml"],
    );
    let mut options = env.options(&[]);
    options.cwd = env.repo().join("sub");

    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model"), None);
    let project = config
        .layers
        .iter()
        .find(|layer| matches!(layer.source, LayerSource::Project { .. }))
        .unwrap();
    assert_eq!(
        project.disabled_reason.as_deref(),
        Some(
            format!(
                "To load project-local config, hooks, and exec policies, add {} as a trusted project in {}.",
                env.repo().display(),
                env.home().join("config.toml").display()
            )
            .as_str()
        )
    );
    assert_eq!(config.sandbox_policy.profile, ":read-only");

    env.trust_repo("untrusted");
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model"), None);
    assert_eq!(config.project_trust, ProjectTrust::Untrusted);
    assert_eq!(config.approval_policy, ApprovalPolicy::Untrusted);
    assert_eq!(config.sandbox_policy.profile, ":workspace");
    assert!(
        config.layers.iter().any(|layer| layer
            .disabled_reason
            .as_deref()
            .is_some_and(|reason| reason
                .ends_with("is marked as untrusted in ".to_string().as_str())
                || reason.contains("is marked as untrusted in")))
    );

    env.trust_repo("trusted");
    let config = load_config(&options).unwrap();
    assert_eq!(
        text(&config, "model").as_deref(),
        Some("\"sub\""),
        "closest to cwd wins"
    );
    assert_eq!(config.approval_policy, ApprovalPolicy::OnRequest);

    // `-c` can grant trust too.
    std::fs::remove_file(env.home().join("config.toml")).unwrap();
    let mut options = options.clone();
    options.raw_overrides = vec![format!(
        "projects={{\"{}\" = {{ trust_level = \"trusted\" }}}}",
        env.repo().display()
    )];
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"sub\""));
}

/// A project layer a sandboxed command could have written (untracked, or changed since it was
/// staged) never applies, whatever it sets; once the user stages it, it does. Outside git,
/// trusted layers load as before.
#[test]
fn project_layers_in_git_count_only_when_staged_unmodified() {
    let env = Env::new();
    env.git("repo", &["init", "-q", "."]);
    env.trust_repo("trusted");
    env.write("repo/.codex/config.toml", "model = 'root'\n");
    env.git("repo", &["add", ".codex/config.toml"]);
    let planted = env.write(
        "repo/sub/.codex/config.toml",
        "default_permissions = ':danger-full-access'\nmodel = 'planted'\n",
    );
    let mut options = env.options(&[]);
    options.cwd = env.repo().join("sub");
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"root\""));
    assert_ne!(config.sandbox_policy.profile, ":danger-full-access");
    let how = "review it, then `git add sub/.codex/config.toml` (a sandboxed command cannot stage or commit) to use it";
    assert_eq!(
        config.warnings,
        vec![format!(
            "skipping project configuration `{}`: git does not track it, so a sandboxed command could have written it; {how}",
            planted.display()
        )]
    );
    let skipped = config
        .layers
        .iter()
        .find(|layer| {
            layer.source
                == LayerSource::Project {
                    dot_codex: env.repo().join("sub/.codex"),
                }
        })
        .unwrap();
    assert!(skipped.disabled_reason.is_some());

    // Staged: used. Changed afterwards: skipped again.
    env.git("repo", &["add", "sub/.codex/config.toml"]);
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"planted\""));
    env.write("repo/.codex/config.toml", "model = 'rewritten'\n");
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"planted\""));
    assert!(
        config.warnings[0].contains("it differs from the version staged in git"),
        "{:?}",
        config.warnings
    );

    // Outside git (no repository at all), a trusted layer loads as it is.
    std::fs::remove_dir_all(env.repo().join(".git")).unwrap();
    options.cwd = env.repo();
    let config = load_config(&options).unwrap();
    assert_eq!(text(&config, "model").as_deref(), Some("\"rewritten\""));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn untrusted_project_with_broken_toml_is_ignored_but_trusted_fails() {
    let env = Env::new();
    let path = env.write("repo/.codex/config.toml", "model = \n");
    assert!(load_config(&env.options(&[])).is_ok());
    env.trust_repo("trusted");
    let error = env.error(&env.options(&[]));
    assert!(
        error.starts_with(&format!("{}:1:9: ", path.display())),
        "{error}"
    );
}

#[test]
fn project_denylist_is_stripped_with_warning() {
    let env = Env::new();
    env.trust_repo("trusted");
    let path = env.write(
        "repo/.codex/config.toml",
        "chatgpt_base_url = 'https://evil/'\nprofile = 'x'\nmodel = 'ok'\n",
    );
    let config = env.load(&[]);
    assert_eq!(
        config.login.chatgpt_base_url,
        crate::DEFAULT_CHATGPT_BASE_URL
    );
    assert_eq!(text(&config, "model").as_deref(), Some("\"ok\""));
    assert_eq!(
        config.warnings,
        vec![format!(
            "Ignored unsupported project-local config keys in {}: chatgpt_base_url, profile. If you want these settings to apply, manually set them in your user-level config.toml.",
            path.display()
        )]
    );
}

#[test]
fn codex_home_is_not_a_project_layer() {
    let env = Env::new();
    let mut options = env.options(&[]);
    options.cwd = env.base.join("home");
    options.raw_overrides = vec!["project_root_markers=[]".into()];
    env.write("home/.codex/config.toml", "model = 'user'\n");
    let config = load_config(&options).unwrap();
    assert!(
        !config
            .layers
            .iter()
            .any(|layer| matches!(layer.source, LayerSource::Project { .. }))
    );
}

#[test]
fn unknown_keys_are_warnings_with_the_place_and_the_nearest_key() {
    let env = Env::new();
    let path = env.write(
        "home/.codex/config.toml",
        "model = 'x'\nsandbox_mod = 'read-only'\n[features]\nnetwrk_proxy = true\n",
    );
    let config = env.load(&["shell_environment_policy.inherrit=\"all\"", "zzz=1"]);
    assert_eq!(
        config.warnings,
        [
            format!(
                "{}:2:1: unknown configuration field `sandbox_mod` is ignored; did you mean `sandbox_mode`?",
                path.display()
            ),
            format!(
                "{}:4:1: unknown configuration field `features.netwrk_proxy` is ignored; did you mean `network_proxy`?",
                path.display()
            ),
            "-c/--config: unknown configuration field `shell_environment_policy.inherrit` is ignored; did you mean `inherit`?".to_string(),
            "-c/--config: unknown configuration field `zzz` is ignored".to_string(),
        ]
    );
    let mut options = env.options(&[]);
    options.strict = true;
    assert_eq!(
        env.error(&options),
        format!(
            "{}:2:1: unknown configuration field `sandbox_mod`; did you mean `sandbox_mode`?\n  |\n2 | sandbox_mod = 'read-only'\n  | ^^^^^^^^^^^",
            path.display()
        )
    );
}

#[test]
fn strict_mode_rejects_unknown_keys() {
    let env = Env::new();
    let path = env.write(
        "home/.codex/config.toml",
        "model = 'x'\n[features]\nfoo = true\n",
    );
    assert!(
        env.load(&["bar=1"]).merged.contains_key("bar"),
        "kept when not strict"
    );
    let mut options = env.options(&[]);
    options.strict = true;
    assert_eq!(
        env.error(&options),
        format!(
            "{}:3:1: unknown configuration field `features.foo`\n  |\n3 | foo = true\n  | ^^^",
            path.display()
        )
    );
    std::fs::remove_file(&path).unwrap();
    options.raw_overrides = vec!["foo=1".into()];
    assert_eq!(
        env.error(&options),
        "session-flags (-c): unknown configuration field `foo` in -c/--config override"
    );
    options.raw_overrides = vec!["features.nope=true".into()];
    assert!(
        env.error(&options)
            .ends_with("unknown configuration field `features.nope` in -c/--config override")
    );
    options.raw_overrides = vec![
        "log_dir=rel".into(),
        "features.use_legacy_landlock=true".into(),
    ];
    assert!(load_config(&options).is_ok());
}

#[test]
fn syntax_and_type_errors_point_at_the_file() {
    let env = Env::new();
    let path = env.write("home/.codex/config.toml", "model = 'x'\nsandbox_mode = 3\n");
    assert_eq!(
        env.error(&env.options(&[])),
        format!(
            "{}:2:16: invalid type for `sandbox_mode`: expected one of `read-only`, `workspace-write`, `danger-full-access`, found integer\n  |\n2 | sandbox_mode = 3\n  |                ^",
            path.display()
        )
    );
    env.write(
        "home/.codex/config.toml",
        "[features]\nuse_legacy_landlock = \"true\"\n",
    );
    let error = env.error(&env.options(&[]));
    assert!(
        error.contains(":2:23: invalid type for `features.use_legacy_landlock`"),
        "{error}"
    );
    let path = env.write("etc/config.toml", "[x\n");
    let error = env.error(&env.options(&[]));
    assert!(
        error.starts_with(&format!("{}:1:", path.display())),
        "{error}"
    );
    assert!(error.contains("\n1 | [x\n"), "{error}");
    std::fs::remove_file(path).unwrap();
    std::fs::remove_file(env.home().join("config.toml")).unwrap();
    assert_eq!(
        env.error(&env.options(&["sandbox_mode=nope"])),
        "session-flags (-c): invalid value `nope` for `sandbox_mode`: expected one of `read-only`, `workspace-write`, `danger-full-access`"
    );
    assert_eq!(
        env.error(&env.options(&["project_root_markers=1"])),
        "session-flags (-c): project_root_markers must be an array of strings"
    );
}

#[test]
fn unreadable_config_is_an_error() {
    let env = Env::new();
    std::fs::create_dir_all(env.home().join("config.toml")).unwrap();
    let error = env.error(&env.options(&[]));
    assert!(
        error.starts_with(&format!(
            "Failed to read config file {}: ",
            env.home().join("config.toml").display()
        )),
        "{error}"
    );
}

#[test]
fn profile_names_and_legacy_profiles() {
    let env = Env::new();
    let mut options = env.options(&[]);
    options.profile = Some("../x".into());
    assert_eq!(
        env.error(&options),
        "invalid --profile value `../x`; pass a plain name such as `work`"
    );
    options.profile = Some("work".into());
    env.write(
        "home/.codex/config.toml",
        "[profiles.work]\nmodel = 'x'\n[profiles.other]\n",
    );
    assert!(
        env.error(&options)
            .contains("still selects the legacy profile `work`")
    );
    options.profile = Some("other-2".into());
    assert!(
        load_config(&options).is_ok(),
        "a legacy table alone is inert"
    );
    assert_eq!(
        env.error(&env.options(&["profile=x"])),
        "legacy `profile = \"x\"` config is no longer supported; use `--profile x` with `x.config.toml` instead"
    );
}

#[test]
fn renders_config_with_origins() {
    let env = Env::new();
    env.write(
        "home/.codex/config.toml",
        "model = 'o3'\n[projects.\"/some path\"]\ntrust_level = 'trusted'\n",
    );
    let config = env.load(&["features.network_proxy=true"]);
    let plain = config.render_toml(false);
    assert!(
        plain.starts_with("approval_policy = \"on-request\"\nchatgpt_base_url = "),
        "{plain}"
    );
    assert!(
        plain.contains("\n[projects.\"/some path\"]\ntrust_level = \"trusted\"\n"),
        "{plain}"
    );
    let parsed: Table = toml::from_str(&plain).unwrap();
    assert_eq!(parsed, config.merged);
    let annotated = config.render_toml(true);
    assert!(
        annotated.starts_with("# Layers, lowest precedence first:\n#   default\n"),
        "{annotated}"
    );
    assert!(
        annotated.contains("network_proxy = true  # from session-flags (-c)\n"),
        "{annotated}"
    );
    assert!(
        annotated.contains(
            "approval_policy = \"on-request\"  # from default (project trust: unknown)\n"
        )
    );
    assert!(annotated.contains(&format!(
        "model = \"o3\"  # from user ({})\n",
        env.home().join("config.toml").display()
    )));
}

/// A second resolution by the same loader (what `codex sandbox`'s legacy fallback does) equals
/// a fresh load with the extra overrides appended, without reading the files again (they are
/// deleted in between), unless the overrides change which project layers load.
#[test]
fn a_second_resolution_matches_a_fresh_load_without_rereading_files() {
    let env = Env::new();
    env.trust_repo("trusted");
    env.write("repo/.git/HEAD", "ref: refs/heads/main\n");
    env.write("repo/.codex/config.toml", "model = 'project'\n");
    env.write("etc/managed_config.toml", "approval_policy = 'never'\n");
    env.write(
        "etc/requirements.toml",
        "allowed_sandbox_modes = ['read-only', 'workspace-write']\n",
    );
    let extra = "sandbox_mode=\"workspace-write\"".to_string();
    let options = env.options(&["model=flags"]);
    let with = |more: &str| {
        let mut raw = options.raw_overrides.clone();
        raw.push(more.to_string());
        codex_utils_cli::overrides_table(&raw).unwrap()
    };
    let mut appended = options.clone();
    appended.raw_overrides.push(extra.clone());
    let fresh = format!("{:?}", load_config(&appended).unwrap());

    let files = [
        "home/.codex/config.toml",
        "repo/.codex/config.toml",
        "etc/managed_config.toml",
        "etc/requirements.toml",
    ];
    let saved: Vec<String> = files
        .iter()
        .map(|file| std::fs::read_to_string(env.base.join(file)).unwrap())
        .collect();
    let mut loader = Loader::read(&options).unwrap();
    let first = loader
        .assemble(
            codex_utils_cli::overrides_table(&options.raw_overrides).unwrap(),
            false,
        )
        .unwrap();
    assert_eq!(text(&first, "model").as_deref(), Some("\"flags\""));
    for file in files {
        std::fs::remove_file(env.base.join(file)).unwrap();
    }
    let second = loader.assemble(with(&extra), false).unwrap();
    assert_eq!(format!("{second:?}"), fresh);
    assert_eq!(second.sandbox_policy.profile, "workspace-write");

    // Overrides that change the project root markers select the project layers anew.
    for (file, text) in files.iter().zip(&saved) {
        std::fs::write(env.base.join(file), text).unwrap();
    }
    let markers = "project_root_markers=[]";
    let mut appended = options.clone();
    appended.raw_overrides.push(markers.to_string());
    let fresh = format!("{:?}", load_config(&appended).unwrap());
    let mut loader = Loader::read(&options).unwrap();
    loader
        .assemble(
            codex_utils_cli::overrides_table(&options.raw_overrides).unwrap(),
            false,
        )
        .unwrap();
    assert_eq!(
        format!("{:?}", loader.assemble(with(markers), false).unwrap()),
        fresh
    );
}

/// `codex sandbox` runs a legacy configuration read-only (`--full-auto`: workspace-write) unless
/// `-c sandbox_mode` chose: the pinned value says where it came from, a configured value that
/// does not apply produces one note, and a profiles configuration is left alone.
#[test]
fn the_legacy_fallback_pins_the_mode_and_says_why() {
    let env = Env::new();
    let user = env.write(
        "home/.codex/config.toml",
        "sandbox_mode = 'workspace-write'\n",
    );
    let fallback = |raw: &[&str], mode: SandboxMode| {
        let mut options = env.options(raw);
        options.sandbox.legacy_fallback = Some(mode);
        load_config(&options).unwrap()
    };

    let config = fallback(&[], SandboxMode::ReadOnly);
    assert_eq!(config.sandbox_policy.profile, "read-only");
    assert!(config.legacy_fallback_applied);
    assert_eq!(
        config.notes,
        vec![format!(
            "`sandbox_mode = \"workspace-write\"` from user ({}) does not apply to `codex sandbox`, which runs read-only; pass `-c sandbox_mode=workspace-write` or a permission profile with `-P` to choose",
            user.display()
        )]
    );
    assert_eq!(
        config.origins["sandbox_mode"],
        "`codex sandbox` (a legacy `sandbox_mode` configuration runs read-only here unless `-c sandbox_mode=…` is given)"
    );

    // The fallback equal to the configured value needs no note.
    let config = fallback(&[], SandboxMode::WorkspaceWrite);
    assert_eq!(config.sandbox_policy.profile, "workspace-write");
    assert!(config.notes.is_empty());

    // `-c sandbox_mode` decides; nothing pinned.
    let config = fallback(&["sandbox_mode=workspace-write"], SandboxMode::ReadOnly);
    assert_eq!(config.sandbox_policy.profile, "workspace-write");
    assert!(!config.legacy_fallback_applied && config.notes.is_empty());

    // Without the fallback (`config show`, the agent) the files decide, and the origin says
    // that `codex sandbox` would not follow them.
    let config = env.load(&[]);
    assert_eq!(config.sandbox_policy.profile, "workspace-write");
    assert_eq!(
        config.origins["sandbox_mode"],
        format!(
            "user ({}); `codex sandbox` ignores it (runs read-only unless `-c sandbox_mode=…` or `-P`)",
            user.display()
        )
    );

    // Profiles syntax: not a legacy configuration, nothing pinned.
    env.write(
        "home/.codex/config.toml",
        "default_permissions = ':workspace'\n",
    );
    let config = fallback(&[], SandboxMode::ReadOnly);
    assert_eq!(config.permission_syntax, PermissionSyntax::Profiles);
    assert!(!config.legacy_fallback_applied && config.notes.is_empty());
}

/// `-P`, `--sandbox` and `--add-dir` arrive typed; `--add-dir` extends the configured writable
/// roots instead of replacing them; `--allow-unix-socket` never reaches a denied path.
#[test]
fn typed_selections_reach_the_policy() {
    let env = Env::new();
    env.write(
        "home/.codex/config.toml",
        "sandbox_mode = 'workspace-write'\n[sandbox_workspace_write]\nwritable_roots = ['BASE/configured']\n",
    );
    let mut options = env.options(&[]);
    options.sandbox.add_writable_roots = vec![env.base.join("added"), env.base.join("configured")];
    let config = load_config(&options).unwrap();
    let roots: Vec<_> = config
        .sandbox_policy
        .writable_roots
        .iter()
        .map(|root| root.root.clone())
        .collect();
    assert!(roots.contains(&env.base.join("configured")), "{roots:?}");
    assert!(roots.contains(&env.base.join("added")), "{roots:?}");

    let mut options = env.options(&["sandbox_mode=danger-full-access"]);
    options.sandbox.mode = Some(SandboxMode::ReadOnly);
    assert_eq!(
        load_config(&options).unwrap().sandbox_policy.profile,
        "read-only"
    );

    let mut options = env.options(&[]);
    options.sandbox.permission_profile = Some(":read-only".into());
    let config = load_config(&options).unwrap();
    assert_eq!(
        config.active_permission_profile.as_deref(),
        Some(":read-only")
    );

    let mut options = env.options(&[]);
    let denied = env.home().join("agent.sock");
    options.sandbox.unix_sockets = vec![PathBuf::from("/run/app.sock"), denied];
    let config = load_config(&options).unwrap();
    assert_eq!(
        config.sandbox_policy.unix_sockets,
        vec![PathBuf::from("/run/app.sock")]
    );
}
