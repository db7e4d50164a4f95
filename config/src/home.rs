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

/// Create `$CODEX_HOME` when it does not exist yet: mode 0700 whatever the umask (missing parents
/// too). A sandbox must hide it before anything is written there: a directory that a login
/// creates during a run would otherwise appear inside every sandbox whose mounts show its parent.
/// An existing directory is left as it is.
pub fn create_codex_home(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => return Ok(()),
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        Err(_) => {}
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The user's home directory (`$HOME` on Unix), if known.
pub(crate) fn home_dir() -> Option<PathBuf> {
    std::env::home_dir().filter(|home| !home.as_os_str().is_empty())
}

/// The home directory of the real user from the password database (`getpwuid_r`), ignoring
/// `$HOME`. Administrator requirements expand `~` with this: the environment of the process
/// being constrained must not move an administrator's `deny_read = ["~/.aws"]`.
#[cfg(unix)]
pub(crate) fn account_home_dir() -> Option<PathBuf> {
    use std::ffi::{CStr, OsStr};
    use std::os::unix::ffi::OsStrExt;

    const MAX_BUFFER: usize = 1 << 20;
    // SAFETY: `getuid` has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut buffer: Vec<libc::c_char> = vec![0; 4096];
    loop {
        // SAFETY: `passwd` is plain old data; an all-zero value is valid and is only read after
        // `getpwuid_r` filled it.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the duration of the call; `buffer.len()` is the
        // capacity of the buffer `getpwuid_r` may write the strings into.
        let status = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut result,
            )
        };
        if status == libc::ERANGE && buffer.len() < MAX_BUFFER {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if status != 0 || result.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        // SAFETY: on success `pw_dir` points to a NUL-terminated string inside `buffer`, which
        // outlives this borrow.
        let bytes = unsafe { CStr::from_ptr(entry.pw_dir) }.to_bytes();
        if bytes.is_empty() {
            return None;
        }
        return Some(PathBuf::from(OsStr::from_bytes(bytes)));
    }
}

/// Non-Unix systems have no password database: the profile directory is used.
#[cfg(not(unix))]
pub(crate) fn account_home_dir() -> Option<PathBuf> {
    home_dir()
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
    fn creates_a_missing_codex_home_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home/.codex");
        create_codex_home(&home).unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // An existing directory keeps its mode.
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o750)).unwrap();
        create_codex_home(&home).unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
    }

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

    /// Regression: the account home comes from the password database, not
    /// from `$HOME` (this test only reads it; `HOME` is not changed in a multi-threaded test).
    #[cfg(unix)]
    #[test]
    fn account_home_matches_the_password_database() {
        let output = std::process::Command::new("getent")
            .arg("passwd")
            // SAFETY: `getuid` has no preconditions.
            .arg(unsafe { libc::getuid() }.to_string())
            .output();
        let Some(expected) = output
            .ok()
            .filter(|output| output.status.success())
            .and_then(|output| {
                let line = String::from_utf8(output.stdout).ok()?;
                line.trim_end().split(':').nth(5).map(PathBuf::from)
            })
        else {
            // No `getent` (macOS) or no entry: at least the lookup must not invent a path.
            if let Some(home) = account_home_dir() {
                assert!(home.is_absolute(), "{}", home.display());
            }
            return;
        };
        assert_eq!(account_home_dir(), Some(expected));
    }

    #[cfg(all(unix, not(debug_assertions)))]
    #[test]
    fn release_builds_ignore_system_dir_override() {
        assert_eq!(system_config_dir(), PathBuf::from("/etc/codex"));
    }
}
