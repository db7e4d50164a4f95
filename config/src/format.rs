//! The format of `config.toml` and `requirements.toml` as schema trees.

use crate::features::FEATURES;
use crate::schema::Node;
use crate::schema::build::*;

pub(crate) const SANDBOX_MODES: &[&str] = &["read-only", "workspace-write", "danger-full-access"];
pub(crate) const APPROVAL_POLICIES: &[&str] = &["untrusted", "on-failure", "on-request", "never"];
pub(crate) const ACCESS_VALUES: &[&str] = &["read", "write", "deny", "none"];
pub(crate) const CREDENTIALS_STORES: &[&str] = &["file", "keyring", "auto", "ephemeral"];
pub(crate) const LOGIN_METHODS: &[&str] = &["chatgpt", "api"];

/// Top-level keys of the upstream format that this build accepts but does not interpret.
const UNINTERPRETED_KEYS: &[&str] = &[
    "agents",
    "analytics",
    "apps",
    "approvals_reviewer",
    "check_for_update_on_startup",
    "developer_instructions",
    "disable_paste_burst",
    "file_opener",
    "hide_agent_reasoning",
    "history",
    "hooks",
    "instructions",
    "mcp_oauth_credentials_store",
    "mcp_servers",
    "memories",
    "model_context_window",
    "notice",
    "notify",
    "otel",
    "personality",
    "plugins",
    "review_model",
    "show_raw_agent_reasoning",
    "skills",
    "tools",
    "tui",
    "web_search",
    "windows",
];

/// Top-level path keys of the upstream format (resolved, otherwise not interpreted).
const UNINTERPRETED_PATH_KEYS: &[&str] = &[
    "experimental_compact_prompt_file",
    "log_dir",
    "model_instructions_file",
    "sqlite_home",
];

fn approval_policy() -> Node {
    any_of(vec![
        one_of(APPROVAL_POLICIES),
        table(vec![(
            "granular",
            table(vec![
                ("sandbox_approval", boolean()),
                ("rules", boolean()),
                ("mcp_elicitations", boolean()),
                ("skill_approval", boolean()),
                ("request_permissions", boolean()),
            ]),
        )]),
    ])
}

fn access() -> Node {
    one_of(ACCESS_VALUES)
}

/// `[permissions.<name>]`.
pub(crate) fn permission_profile() -> Node {
    table(vec![
        (
            "description",
            string().describe("Shown when listing profiles."),
        ),
        (
            "extends",
            string().describe("Another profile (or `:read-only` / `:workspace`) merged first."),
        ),
        (
            "workspace_roots",
            map(boolean()).describe("Extra workspace roots (`path = true`), relative to the cwd."),
        ),
        (
            "filesystem",
            table_with_map(
                vec![(
                    "glob_scan_max_depth",
                    integer(Some(1)).describe("Depth limit when expanding deny globs."),
                )],
                any_of(vec![access(), map(access())]),
            )
            .describe(
                "Path (absolute, `~/…` or a `:token`) to `read`/`write`/`deny`, or to a table of \
                 subpaths.",
            ),
        ),
        (
            "network",
            table(vec![
                ("enabled", boolean().describe("Allow network access.")),
                (
                    "unix_sockets",
                    map(one_of(&["allow", "deny", "none"]))
                        .describe("Unix socket paths the command may use."),
                ),
                ("proxy_url", string()),
                ("enable_socks5", boolean()),
                ("socks_url", string()),
                ("enable_socks5_udp", boolean()),
                ("allow_upstream_proxy", boolean()),
                ("dangerously_allow_non_loopback_proxy", boolean()),
                ("dangerously_allow_all_unix_sockets", boolean()),
                ("mode", one_of(&["limited", "full"])),
                ("domains", map(one_of(&["allow", "deny"]))),
                ("allow_local_binding", boolean()),
                ("mitm", any()),
            ]),
        ),
    ])
}

/// `config.toml` (every layer has this shape).
pub(crate) fn config_schema() -> Node {
    let mut fields: Vec<(&'static str, Node)> = vec![
        (
            "sandbox_mode",
            one_of(SANDBOX_MODES).describe("Legacy sandbox selection."),
        ),
        (
            "sandbox_workspace_write",
            table(vec![
                ("writable_roots", array(path())),
                ("network_access", boolean()),
                ("exclude_tmpdir_env_var", boolean()),
                ("exclude_slash_tmp", boolean()),
            ])
            .describe("Settings for `sandbox_mode = \"workspace-write\"`."),
        ),
        (
            "linux_sandbox",
            table(vec![
                (
                    "bwrap_path",
                    path().describe(
                        "The bubblewrap to use (system, user, profile or -c layers only); by \
                         default `/usr/bin/bwrap`, else a root-owned `bwrap` on PATH.",
                    ),
                ),
                (
                    "max_processes",
                    integer(Some(0))
                        .describe("Most processes and threads per sandbox (0 = no limit)."),
                ),
                (
                    "landlock_layer",
                    boolean().describe("Apply Landlock inside bubblewrap as a second layer."),
                ),
                (
                    "require_process_limit",
                    boolean().describe(
                        "Refuse to run when `max_processes` cannot hold: codex runs as root \
                         (exempt from RLIMIT_NPROC) and no pids cgroup can be created \
                         (default false: run without a limit, reported as `none`).",
                    ),
                ),
            ])
            .describe("Linux sandbox settings."),
        ),
        (
            "approval_policy",
            approval_policy().describe("When the agent asks before running a command."),
        ),
        (
            "project_doc_max_bytes",
            integer(Some(0)).describe(
                "Bytes of AGENTS.md text the agent sends to the model (default 32768; 0 \
                 disables AGENTS.md).",
            ),
        ),
        (
            "default_permissions",
            string()
                .describe("The active permission profile (a `[permissions]` name or built-in)."),
        ),
        (
            "permissions",
            map(permission_profile()).describe("Named permission profiles."),
        ),
        (
            "features",
            table(
                FEATURES
                    .iter()
                    .map(|spec| (spec.name, boolean().describe(spec.description)))
                    .collect(),
            )
            .describe("Feature flags."),
        ),
        (
            "shell_environment_policy",
            table(vec![
                ("inherit", one_of(&["all", "core", "none"])),
                ("ignore_default_excludes", boolean()),
                ("exclude", array(string())),
                ("include_only", array(string())),
                ("set", map(string())),
                ("experimental_use_profile", boolean()),
            ])
            .describe("Which environment variables a sandboxed command sees."),
        ),
        ("cli_auth_credentials_store", one_of(CREDENTIALS_STORES)),
        ("forced_login_method", one_of(LOGIN_METHODS)),
        (
            "forced_chatgpt_workspace_id",
            any_of(vec![string(), array(string())]),
        ),
        ("chatgpt_base_url", string()),
        (
            "project_root_markers",
            array(string()).type_error("project_root_markers must be an array of strings"),
        ),
        (
            "projects",
            map(table(vec![(
                "trust_level",
                one_of(&["trusted", "untrusted"]),
            )]))
            .describe("Per-project trust, keyed by absolute path."),
        ),
        (
            "profile",
            string().describe("Legacy profile selector; no longer supported."),
        ),
        ("profiles", map(any()).describe("Legacy profiles; ignored.")),
    ];
    fields.extend(crate::providers::schema_fields());
    fields.extend(UNINTERPRETED_KEYS.iter().map(|key| (*key, any())));
    fields.extend(UNINTERPRETED_PATH_KEYS.iter().map(|key| (*key, path())));
    fields.sort_by(|a, b| a.0.cmp(b.0));
    table(fields)
}

/// Top-level `requirements.toml` keys of the upstream format that this build does not apply
/// but that do not constrain the sandbox or the network: a warning names each one.
pub(crate) const UNSUPPORTED_REQUIREMENT_KEYS: &[&str] = &[
    "allow_appshots",
    "allow_managed_hooks_only",
    "allow_remote_control",
    "allowed_approvals_reviewers",
    "allowed_web_search_modes",
    "apps",
    "computer_use",
    "enforce_residency",
    "guardian_policy_config",
    "hooks",
    "marketplaces",
    "mcp_servers",
    "plugins",
    "rules",
    #[cfg(not(windows))]
    "windows",
];

/// Top-level `requirements.toml` keys of the upstream format that constrain the sandbox or the
/// network and that this build cannot apply: loading fails (an administrator constraint is
/// never silently dropped). Anything unknown below `permissions` fails the same way.
pub(crate) const UNENFORCEABLE_REQUIREMENT_KEYS: &[&str] = &[
    "allowed_permission_profiles",
    "default_permissions",
    "experimental_network",
    "remote_sandbox_config",
    #[cfg(windows)]
    "windows",
];

/// `requirements.toml`. Keys outside this tree are sorted by [`UNENFORCEABLE_REQUIREMENT_KEYS`]
/// (errors), [`UNSUPPORTED_REQUIREMENT_KEYS`] (warnings) and the rest (warnings).
pub(crate) fn requirements_schema() -> Node {
    table(vec![
        ("allowed_approval_policies", array(approval_policy())),
        (
            "allowed_sandbox_modes",
            array(one_of(&[
                "read-only",
                "workspace-write",
                "danger-full-access",
                "external-sandbox",
            ])),
        ),
        ("allowed_permissions", array(string())),
        (
            "permissions",
            table_with_map(
                vec![("filesystem", table(vec![("deny_read", array(string()))]))],
                permission_profile(),
            ),
        ),
        ("features", map(boolean())),
        ("feature_requirements", map(boolean())),
        ("forced_login_method", one_of(LOGIN_METHODS)),
        (
            "forced_chatgpt_workspace_id",
            any_of(vec![string(), array(string())]),
        ),
        ("cli_auth_credentials_store", one_of(CREDENTIALS_STORES)),
        ("chatgpt_base_url", string()),
    ])
}
