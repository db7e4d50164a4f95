//! CODEX_HOME, configuration layers, `-c` overrides, requirements and permission profiles.
//!
//! [`load_config`] reads, lowest precedence first: built-in defaults, the system
//! `<system dir>/config.toml`, the user `$CODEX_HOME/config.toml`, the `--profile` file
//! `$CODEX_HOME/<name>.config.toml`, trusted project layers (`.codex/config.toml` from the
//! project root down to the cwd), `-c` overrides, and the legacy
//! `<system dir>/managed_config.toml`. Tables merge deeply; other values replace. Then the
//! permission profile (or legacy `sandbox_mode`) is compiled into a
//! [`codex_sandbox_policy::SandboxPolicy`] and administrator requirements
//! (`<system dir>/requirements.toml`, plus `managed_config.toml` read as constraints) are
//! applied.
//!
//! The system directory is `/etc/codex` ([`system_config_dir`]). **Debug builds only** honour
//! `CODEX_SYSTEM_CONFIG_DIR` in its place so tests can use a temporary directory without root;
//! release builds ignore the variable so an agent cannot dodge requirements through its
//! environment.
//!
//! # Security properties and known limits
//!
//! - **Requirement `deny_read` is final.** A plain path is applied with
//!   [`codex_sandbox_policy::SandboxPolicy::force_deny`]: every rule, writable root and unix socket
//!   at or below it is removed, so no more specific allow (nor a cwd inside it) reopens it.
//!   Glob entries become `deny_globs`, which backends apply after everything else.
//! - **`~` in requirements** is the account's home directory from the password database, plus
//!   `$HOME` when it differs (denials apply to both); `$HOME` can add denials, never move them.
//!   `~` keys of managed `[permissions.<name>]` profiles are pinned to the account's home.
//! - **Unknown requirement keys**: a key that constrains the sandbox or the network and that this
//!   build cannot enforce (`remote_sandbox_config`, `experimental_network`,
//!   `allowed_permission_profiles`, `default_permissions`, anything unknown under
//!   `permissions`) is an error; other upstream keys this build does not apply (`mcp_servers`,
//!   `rules`, `hooks`, `allowed_web_search_modes`, …) and unknown keys are warnings naming them.
//! - **`allowed_sandbox_modes`** classifies a policy that can write `/` as
//!   `danger-full-access`, whatever its name.
//! - **Built-in profiles ignore `allowed_permissions`** (as upstream): `:read-only`,
//!   `:workspace` and `:danger-full-access` may always be selected by name, so
//!   `allowed_permissions` alone does not stop `default_permissions = ":danger-full-access"`.
//!   Administrators who must forbid full access set `allowed_sandbox_modes` as well (or
//!   `deny_read`, which forbids full access).
//! - **Protected paths**: every writable root keeps `.git`, `.codex` and `.agents` read-only
//!   (masked when missing), and `$CODEX_HOME` when it lies inside the root, so a sandboxed
//!   command cannot rewrite the configuration of the next session. `$TMPDIR` is not granted when
//!   it is `/` or a home directory (or an ancestor of one).
//! - **Nested project layers (known limit)**: a trusted project loads `.codex/config.toml` from
//!   every directory between the project root and the cwd. Only `<writable root>/.codex` is
//!   protected, so a sandboxed command can create `sub/.codex/config.toml`, which a later session
//!   *started from `sub/`* loads as project configuration. Start sessions from the project root
//!   (or review new `.codex` directories) until nested layers are protected.
//! - **Untrusted input is bounded**: configuration files are read only when they are regular
//!   files of at most 1 MiB, git pointer files at most 4 KiB; an untrusted project's
//!   `.codex/config.toml` is not opened; a linked worktree inherits trust only when its main
//!   repository confirms it; `extends` chains stop at 64 profiles.

mod compile;
mod config;
mod diagnostics;
mod env_vars;
mod error;
mod features;
mod format;
mod home;
mod json_schema;
mod layers;
mod linux_sandbox;
mod loader;
mod login;
mod merge;
mod paths;
mod permissions;
mod project;
mod providers;
mod redact;
mod requirements;
mod resolve;
mod schema;
mod selection;
mod shell_env;
mod show;
mod suggestions;
#[cfg(test)]
mod test_support;
mod types;

pub use config::Config;
pub use diagnostics::ConfigDiagnostic;
pub use diagnostics::DiagnosticLocation;
pub use error::LoadConfigError;
pub use features::FEATURES;
pub use features::FeatureSpec;
pub use features::FeatureStage;
pub use features::Features;
pub use features::is_known_feature;
pub use home::CodexHomeError;
pub use home::create_codex_home;
pub use home::find_codex_home;
pub use home::system_config_dir;
pub use json_schema::config_json_schema;
pub use layers::LayerSource;
pub use layers::LayerSummary;
pub use linux_sandbox::DEFAULT_MAX_PROCESSES;
pub use linux_sandbox::LinuxSandboxBackend;
pub use linux_sandbox::LinuxSandboxSettings;
pub use loader::LoaderOptions;
pub use loader::RequirementsMode;
pub use loader::load_config;
pub use login::DEFAULT_CHATGPT_BASE_URL;
pub use login::LoginSettings;
pub use permissions::PermissionsError;
pub use providers::BUILT_IN_MODEL_PROVIDERS;
pub use providers::ModelSettings;
pub use providers::OssProvider;
pub use providers::ProviderConfig;
pub use providers::ReasoningEffort;
pub use providers::ReasoningSummary;
pub use providers::Sourced;
pub use providers::StreamLimits;
pub use providers::Verbosity;
pub use redact::REDACTED;
pub use requirements::RequirementsError;
pub use requirements::RequirementsLayer;
pub use requirements::RequirementsSource;
pub use resolve::RequirementAdjustment;
pub use selection::SandboxSelection;
pub use shell_env::EnvironmentInherit;
pub use shell_env::ShellEnvironmentPolicy;
pub use suggestions::ProfileSuggestions;
pub use suggestions::permission_profile_names;
pub use types::ApprovalPolicy;
pub use types::CredentialsStore;
pub use types::GranularApproval;
pub use types::LoginMethod;
pub use types::PermissionSyntax;
pub use types::ProjectTrust;
pub use types::SandboxMode;
