//! Finding a program on a `PATH` the way `execvp` does, and the shell's exit-code convention:
//! written once for every backend and front end.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// `execvp`'s default search path when `PATH` is unset.
const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// The executable `program` names: itself when it contains a `/` (relative to `cwd`), else the
/// first executable regular file `<dir>/<program>` on `path` (relative entries against `cwd`).
pub fn find_program(program: &OsStr, path: Option<&OsStr>, cwd: &Path) -> Option<PathBuf> {
    let executable = |candidate: &Path| {
        std::fs::metadata(candidate)
            .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
    };
    if program.is_empty() {
        return None;
    }
    if program.as_bytes().contains(&b'/') {
        let candidate = cwd.join(program);
        return executable(&candidate).then_some(candidate);
    }
    std::env::split_paths(path.unwrap_or(OsStr::new(DEFAULT_PATH)))
        .map(|directory| cwd.join(directory).join(program))
        .find(|candidate| executable(candidate))
}

/// The value of `PATH` in an environment list.
pub fn path_of(env: &[(std::ffi::OsString, std::ffi::OsString)]) -> Option<&OsStr> {
    env.iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value.as_os_str())
}

/// The exit code a shell reports: the code, or 128+N for a death by signal N.
pub fn shell_exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_execvp_rules() {
        let root = Path::new("/");
        assert_eq!(
            find_program(
                OsStr::new("sh"),
                Some(OsStr::new("/nonexistent:/bin")),
                root
            ),
            Some(PathBuf::from("/bin/sh"))
        );
        assert!(find_program(OsStr::new("/bin/sh"), None, root).is_some());
        assert!(find_program(OsStr::new("sh"), Some(OsStr::new("/nonexistent")), root).is_none());
        assert!(find_program(OsStr::new("definitely-not-a-command-xyz"), None, root).is_none());
        assert!(find_program(OsStr::new(""), None, root).is_none());
        // Relative entries and programs resolve against the working directory.
        assert!(find_program(OsStr::new("sh"), Some(OsStr::new("bin")), root).is_some());
        assert!(find_program(OsStr::new("./bin/sh"), None, root).is_some());
        // A directory is not a program.
        assert!(find_program(OsStr::new("/bin"), None, root).is_none());
    }

    #[test]
    fn shell_codes() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(shell_exit_code(ExitStatus::from_raw(9)), 137);
        assert_eq!(shell_exit_code(ExitStatus::from_raw(3 << 8)), 3);
    }
}
