//! `CODEX_HOME`, the home directory and the system configuration directory.

use std::io;
use std::path::{Path, PathBuf};

use crate::env_vars;

/// `CODEX_HOME` could not be resolved. Texts match the upstream CLI.
#[derive(Debug, thiserror::Error)]
pub enum CodexHomeError {
    #[error("CODEX_HOME points to {value:?}, but that path does not exist")]
    NotFound { value: String },
    #[error("CODEX_HOME points to {value:?}, but that path is not a directory")]
    NotADirectory { value: String },
    #[error("failed to read CODEX_HOME {value:?}: {error}")]
    Metadata { value: String, error: io::Error },
    #[error("failed to canonicalize CODEX_HOME {value:?}: {error}")]
    Canonicalize { value: String, error: io::Error },
    #[error("Could not find home directory")]
    NoHomeDirectory,
}

impl CodexHomeError {
    /// The `std::io::ErrorKind` upstream reports for this error.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            CodexHomeError::NotFound { .. } | CodexHomeError::NoHomeDirectory => {
                io::ErrorKind::NotFound
            }
            CodexHomeError::NotADirectory { .. } => io::ErrorKind::InvalidInput,
            CodexHomeError::Metadata { error, .. } | CodexHomeError::Canonicalize { error, .. } => {
                error.kind()
            }
        }
    }
}

/// `$CODEX_HOME` (non-empty: must exist, be a directory, and is canonicalised) or `~/.codex`
/// (neither checked nor created).
pub fn find_codex_home() -> Result<PathBuf, CodexHomeError> {
    let value = std::env::var_os(env_vars::CODEX_HOME).filter(|value| !value.is_empty());
    match value {
        Some(value) => resolve_codex_home_env(Path::new(&value)),
        None => home_dir()
            .map(|home| home.join(".codex"))
            .ok_or(CodexHomeError::NoHomeDirectory),
    }
}

fn resolve_codex_home_env(path: &Path) -> Result<PathBuf, CodexHomeError> {
    let value = path.to_string_lossy().into_owned();
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => return Err(CodexHomeError::NotADirectory { value }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(CodexHomeError::NotFound { value });
        }
        Err(error) => return Err(CodexHomeError::Metadata { value, error }),
    }
    path.canonicalize()
        .map_err(|error| CodexHomeError::Canonicalize { value, error })
}

/// The user's home directory (`$HOME` on Unix), if known.
pub(crate) fn home_dir() -> Option<PathBuf> {
    std::env::home_dir().filter(|home| !home.as_os_str().is_empty())
}

/// The directory holding the system `config.toml`, `requirements.toml` and
/// `managed_config.toml`: `/etc/codex` on Unix, `%ProgramData%\OpenAI\Codex` on Windows.
///
/// Debug builds only: `CODEX_SYSTEM_CONFIG_DIR` replaces it, so tests can exercise system
/// configuration and requirements without root. Release builds ignore the variable, so a
/// sandboxed agent cannot dodge administrator requirements through its environment.
pub fn system_config_dir() -> PathBuf {
    #[cfg(debug_assertions)]
    if let Some(dir) =
        std::env::var_os(env_vars::CODEX_SYSTEM_CONFIG_DIR).filter(|dir| !dir.is_empty())
    {
        return PathBuf::from(dir);
    }
    default_system_config_dir()
}

#[cfg(not(windows))]
fn default_system_config_dir() -> PathBuf {
    PathBuf::from("/etc/codex")
}

#[cfg(windows)]
fn default_system_config_dir() -> PathBuf {
    let program_data = std::env::var_os("ProgramData")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from);
    program_data.join("OpenAI").join("Codex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_missing_path_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let error = resolve_codex_home_env(&missing).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            error.to_string(),
            format!(
                "CODEX_HOME points to \"{}\", but that path does not exist",
                missing.display()
            )
        );
    }

    #[test]
    fn env_file_path_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let error = resolve_codex_home_env(&file).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(
            error
                .to_string()
                .ends_with("but that path is not a directory")
        );
    }

    #[cfg(unix)]
    #[test]
    fn env_valid_directory_canonicalizes() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(
            resolve_codex_home_env(&link).unwrap(),
            real.canonicalize().unwrap()
        );
    }

    #[cfg(all(unix, not(debug_assertions)))]
    #[test]
    fn release_builds_ignore_system_dir_override() {
        assert_eq!(system_config_dir(), PathBuf::from("/etc/codex"));
    }
}
