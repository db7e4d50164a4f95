//! The login log: `<log_dir>/codex-login.log`, appended, mode 0600. Only the sign-in code writes
//! it, and only with messages that never contain credentials ([`crate::Secret`] cannot be
//! formatted with `{}`).

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
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    let _ = LOG_FILE.set(Mutex::new(file));
    Ok(path)
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
