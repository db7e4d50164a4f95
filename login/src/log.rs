//! The login log: `<log_dir>/codex-login.log`, appended, mode 0600. Only the sign-in code writes
//! it, and only with messages that never contain credentials ([`crate::Secret`] cannot be
//! formatted with `{}`). A symbolic link, a non-regular file or another user's file at that path
//! is refused rather than appended to (and re-permissioned).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::time::Timestamp;

pub const LOGIN_LOG_FILE_NAME: &str = "codex-login.log";

static LOG_FILE: OnceLock<Mutex<File>> = OnceLock::new();

/// Open (create) `<log_dir>/codex-login.log` for this process; later calls are no-ops.
pub fn init_login_log(log_dir: &Path) -> std::io::Result<PathBuf> {
    let path = log_dir.join(LOGIN_LOG_FILE_NAME);
    if LOG_FILE.get().is_some() {
        return Ok(path);
    }
    crate::fs_atomic::create_private_dir_all(log_dir)?;
    let file = open_log_file(&path)?;
    let _ = LOG_FILE.set(Mutex::new(file));
    Ok(path)
}

/// Open (create) the log file for appending and make it 0600; errors name the file.
fn open_log_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = crate::fs_atomic::open_private_file(path, &mut options).map_err(|error| {
        std::io::Error::new(error.kind(), format!("`{}`: {error}", path.display()))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Append one line to the login log (dropped when no log is open).
pub(crate) fn login_log(message: std::fmt::Arguments<'_>) {
    let Some(file) = LOG_FILE.get() else {
        return;
    };
    let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = writeln!(
        file,
        "{} codex_login: {message}",
        Timestamp::now().to_rfc3339()
    );
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// Regression: the log was opened with create+append through a symbolic link and the target
    /// was then chmod'ed to 0600 and appended to. (`init_login_log` is process-global, so the
    /// open it performs is tested directly.)
    #[test]
    fn login_log_follows_symlink() {
        let home = tempfile::tempdir().unwrap();
        let victim = home.path().join("victim.txt");
        std::fs::write(&victim, "original\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        let log_dir = home.path().join("log");
        std::fs::create_dir(&log_dir).unwrap();
        let path = log_dir.join(LOGIN_LOG_FILE_NAME);
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let error = open_log_file(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "`{}`: it is a symbolic link (refusing to follow it; replace it with a regular file)",
                path.display()
            )
        );
        let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original\n");
    }

    #[test]
    fn login_log_is_created_private_and_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOGIN_LOG_FILE_NAME);
        std::fs::write(&path, "old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut file = open_log_file(&path).unwrap();
        writeln!(file, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\nnew\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
