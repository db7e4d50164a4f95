//! CODEX_HOME, configuration layers, `-c` overrides, requirements and permission profiles.
//!
//! [`load_config`] reads, lowest precedence first: built-in defaults, the system
//! `<system dir>/config.toml`, the user `$CODEX_HOME/config.toml`, the `--profile` file
//! `$CODEX_HOME/<name>.config.toml`, trusted project layers (`.codex/config.toml` from the
//! project root down to the cwd), `-c` overrides, and the legacy
//! `<system dir>/managed_config.toml`. Tables merge deeply; other values replace. Then the
//! permission profile (or legacy `sandbox_mode`) is compiled into a
//! [`codex_sandboxing::SandboxPolicy`] and administrator requirements
//! (`<system dir>/requirements.toml`, plus `managed_config.toml` read as constraints) are
//! applied.
//!
//! The system directory is `/etc/codex` ([`system_config_dir`]). **Debug builds only** honour
//! `CODEX_SYSTEM_CONFIG_DIR` in its place so tests can use a temporary directory without root;
//! release builds ignore the variable so an agent cannot dodge requirements through its
//! environment.

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
mod loader;
mod login;
mod merge;
mod paths;
mod permissions;
mod project;
mod requirements;
mod resolve;
mod schema;
mod shell_env;
mod show;
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
pub use home::find_codex_home;
pub use home::system_config_dir;
pub use json_schema::config_json_schema;
pub use layers::LayerSource;
pub use layers::LayerSummary;
pub use loader::LoaderOptions;
pub use loader::RequirementsMode;
pub use loader::load_config;
pub use login::DEFAULT_CHATGPT_BASE_URL;
pub use login::LoginSettings;
pub use permissions::PermissionsError;
pub use requirements::RequirementsError;
pub use requirements::RequirementsLayer;
pub use requirements::RequirementsSource;
pub use resolve::RequirementAdjustment;
pub use shell_env::EnvironmentInherit;
pub use shell_env::ShellEnvironmentPolicy;
pub use types::ApprovalPolicy;
pub use types::CredentialsStore;
pub use types::ForcedLoginMethod;
pub use types::GranularApproval;
pub use types::PermissionSyntax;
pub use types::ProjectTrust;
pub use types::SandboxMode;
