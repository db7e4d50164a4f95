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
/// per-key origins for `codex config show`. `Debug` shows the merged table with its secrets
/// redacted.
#[derive(Clone)]
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
    /// Settings in the files that do not apply to this command, and what to do instead: print
    /// each as `note: …` on stderr.
    pub notes: Vec<String>,
    /// `codex sandbox` pinned a legacy configuration's mode
    /// ([`crate::SandboxSelection::legacy_fallback`]): no `-c sandbox_mode` chose one.
    pub legacy_fallback_applied: bool,
    /// Only with [`crate::LoaderOptions::defer_sandbox_refusals`]: why this configuration's
    /// policy must not run anything here (then `sandbox_policy` was compiled without the
    /// refusal and must not be used to run a command).
    pub sandbox_refusal: Option<crate::PermissionsError>,
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

    /// The merged table with every secret (bearer tokens, header and environment values, keys
    /// named like a token, secret, password or API key) replaced by [`crate::REDACTED`]: what
    /// may be printed.
    pub fn merged_for_display(&self) -> Table {
        crate::redact::redacted(&self.merged)
    }

    /// The merged configuration as TOML (secrets redacted); with `origins`, every value carries a
    /// `# from <layer>` comment and the layer stack is listed first.
    pub fn render_toml(&self, origins: bool) -> String {
        render_toml(self, origins)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("cwd", &self.cwd)
            .field("codex_home", &self.codex_home)
            .field("sandbox_policy", &self.sandbox_policy)
            .field("permission_syntax", &self.permission_syntax)
            .field("active_permission_profile", &self.active_permission_profile)
            .field("approval_policy", &self.approval_policy)
            .field("features", &self.features)
            .field("linux_sandbox", &self.linux_sandbox)
            .field("shell_environment_policy", &self.shell_environment_policy)
            .field("login", &self.login)
            .field("model", &self.model)
            .field("warnings", &self.warnings)
            .field("project_root", &self.project_root)
            .field("project_trust", &self.project_trust)
            .field("layers", &self.layers)
            .field("merged", &self.merged_for_display())
            .field("origins", &self.origins)
            .field("adjustments", &self.adjustments)
            .field("notes", &self.notes)
            .field("legacy_fallback_applied", &self.legacy_fallback_applied)
            .field("sandbox_refusal", &self.sandbox_refusal)
            .finish()
    }
}
