//! The error of [`crate::load_config`].

use std::io;
use std::path::PathBuf;

use codex_utils_cli::OverrideParseError;

use crate::diagnostics::ConfigDiagnostic;
use crate::home::CodexHomeError;
use crate::permissions::PermissionsError;
use crate::requirements::RequirementsError;

impl std::error::Error for ConfigDiagnostic {}

/// Loading the configuration failed. Texts marked upstream match the upstream CLI exactly.
#[derive(Debug, thiserror::Error)]
pub enum LoadConfigError {
    /// Upstream text.
    #[error("Error parsing -c overrides: {0}")]
    Overrides(OverrideParseError),
    #[error(transparent)]
    CodexHome(#[from] CodexHomeError),
    /// Upstream text.
    #[error("invalid --profile value `{0}`; pass a plain name such as `work`")]
    InvalidProfileName(String),
    #[error(
        "{} still selects the legacy profile `{name}` (`profile = \"{name}\"` or `[profiles.{name}]`); move those settings into `{name}.config.toml` and remove the legacy selector and table",
        path.display()
    )]
    LegacyProfileSelected { name: String, path: PathBuf },
    /// Upstream text.
    #[error(
        "legacy `profile = \"{0}\"` config is no longer supported; use `--profile {0}` with `{0}.config.toml` instead"
    )]
    LegacyProfileKey(String),
    /// Upstream text.
    #[error("Failed to read config file {}: {error}", path.display())]
    ReadConfig { path: PathBuf, error: io::Error },
    /// Upstream text.
    #[error("Failed to read project config file {}: {error}", path.display())]
    ReadProjectConfig { path: PathBuf, error: io::Error },
    /// Upstream text.
    #[error("Failed to read requirements file {}: {error}", path.display())]
    ReadRequirements { path: PathBuf, error: io::Error },
    /// A syntax, type or (with `--strict-config`) unknown-key error at a position.
    #[error(transparent)]
    Diagnostic(#[from] ConfigDiagnostic),
    #[error(transparent)]
    Permissions(#[from] PermissionsError),
    #[error(transparent)]
    Requirements(#[from] RequirementsError),
}

impl LoadConfigError {
    /// Whether the text starts with its own `Error …` prefix (upstream prints it without
    /// `error: `).
    pub fn carries_own_prefix(&self) -> bool {
        matches!(self, LoadConfigError::Overrides(_))
    }
}

impl From<OverrideParseError> for LoadConfigError {
    fn from(error: OverrideParseError) -> Self {
        LoadConfigError::Overrides(error)
    }
}
