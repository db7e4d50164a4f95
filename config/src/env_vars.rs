//! Every environment variable this crate reads.

/// Overrides the configuration home (default `~/.codex`).
pub(crate) const CODEX_HOME: &str = "CODEX_HOME";
/// Debug builds only: replaces `/etc/codex` (see [`crate::system_config_dir`]).
#[cfg(debug_assertions)]
pub(crate) const CODEX_SYSTEM_CONFIG_DIR: &str = "CODEX_SYSTEM_CONFIG_DIR";
/// The temporary directory granted by `:tmpdir` and legacy `workspace-write`.
pub(crate) const TMPDIR: &str = "TMPDIR";
