//! The loaded configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use codex_sandbox_policy::SandboxPolicy;
use toml::Table;

use crate::features::Features;
use crate::layers::LayerSummary;
use crate::linux_sandbox::LinuxSandboxSettings;
use crate::login::LoginSettings;
use crate::providers::ModelSettings;
use crate::resolve::RequirementAdjustment;
use crate::shell_env::ShellEnvironmentPolicy;
use crate::show::render_toml;
use crate::types::{ApprovalPolicy, PermissionSyntax, ProjectTrust};

/// The effective configuration: typed settings every command uses, plus the merged table and
/// per-key origins for `codex config show`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The (lexically normalised) working directory.
    pub cwd: PathBuf,
    pub codex_home: PathBuf,
    /// Fully resolved: absolute paths, protected subpaths, `auth.json` masked, requirements
    /// applied.
    pub sandbox_policy: SandboxPolicy,
    pub permission_syntax: PermissionSyntax,
    /// The selected permission profile (`None` in legacy mode or after a requirement fallback).
    pub active_permission_profile: Option<String>,
    pub approval_policy: ApprovalPolicy,
    pub features: Features,
    /// `[linux_sandbox]` and the backend (`use_legacy_landlock`).
    pub linux_sandbox: LinuxSandboxSettings,
    pub shell_environment_policy: ShellEnvironmentPolicy,
    pub login: LoginSettings,
    /// Model, providers, reasoning and stream limits, with the layers that set them.
    pub model: ModelSettings,
    /// Print each as `warning: …` on stderr.
    pub warnings: Vec<String>,
    pub project_root: PathBuf,
    pub project_trust: ProjectTrust,
    /// Every layer, lowest precedence first, including disabled project layers.
    pub layers: Vec<LayerSummary>,
    /// The merged table of enabled layers with requirement fallbacks applied.
    pub merged: Table,
    /// Dotted key → display name of the layer (or requirement) that decided it.
    pub origins: BTreeMap<String, String>,
    pub adjustments: Vec<RequirementAdjustment>,
}

impl Config {
    /// The permission profiles `-P` accepts here: the built-ins, then the `[permissions]`
    /// names of the merged configuration, sorted.
    pub fn permission_profile_names(&self) -> Vec<String> {
        crate::suggestions::permission_profile_names(
            self.merged
                .get("permissions")
                .and_then(toml::Value::as_table),
        )
    }

    /// The merged configuration as TOML; with `origins`, every value carries a
    /// `# from <layer>` comment and the layer stack is listed first.
    pub fn render_toml(&self, origins: bool) -> String {
        render_toml(self, origins)
    }
}
