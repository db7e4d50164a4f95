//! Running a test command as an unprivileged user (uid/gid 65534 through `setpriv`), and the
//! canary that fails when the machine cannot do that, so such tests never skip silently.

use std::path::Path;
use std::process::{Command, Stdio};

/// The unprivileged uid and gid the tests switch to (`nobody`).
pub const NOBODY: u32 = 65534;

/// True when this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `inner` run as uid/gid [`NOBODY`] with no supplementary groups, through `setpriv`: the same
/// program, arguments, environment (only what `inner` sets explicitly; it is cleared first) and
/// working directory, stdin `/dev/null`.
pub fn as_nobody(inner: &Command) -> Command {
    let mut command = Command::new("setpriv");
    command
        .arg(format!("--reuid={NOBODY}"))
        .arg(format!("--regid={NOBODY}"))
        .args(["--clear-groups", "--"])
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear();
    for (name, value) in inner.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    if let Some(directory) = inner.get_current_dir() {
        command.current_dir(directory);
    }
    command.stdin(Stdio::null());
    command
}

/// Give `path` and everything below it to uid/gid [`NOBODY`] (symlinks themselves, not their
/// targets), after making `path` itself `0755` so the user can reach it.
pub fn chown_to_nobody(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|error| panic!("chmod `{}`: {error}", path.display()));
    let status = Command::new("chown")
        .args(["-R", "-h", &format!("{NOBODY}:{NOBODY}")])
        .arg(path)
        .status()
        .unwrap_or_else(|error| panic!("run chown: {error}"));
    assert!(status.success(), "chown -R {NOBODY} `{}`", path.display());
}

/// What the machine lacks for running tests as root *and* as [`NOBODY`]; empty when nothing.
/// Runs `setpriv … id -u` to check that the switch really happens.
pub fn missing_for_unprivileged_runs() -> Vec<String> {
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("running as root (needed to switch to uid 65534)".to_string());
        return missing;
    }
    let mut probe = Command::new("id");
    probe.arg("-u").env_clear().env("PATH", crate::TEST_PATH);
    match as_nobody(&probe).output() {
        Ok(output) if String::from_utf8_lossy(&output.stdout).trim() == NOBODY.to_string() => {}
        Ok(output) => missing.push(format!(
            "a working `setpriv --reuid={NOBODY}` (it printed `{}` and `{}`)",
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(error) => missing.push(format!("setpriv on PATH (util-linux): {error}")),
    }
    missing
}

/// The canary: panics, naming what is missing, when tests cannot run as root and as
/// [`NOBODY`]. Call it from one `#[test]` of every suite that uses [`as_nobody`].
pub fn require_root_and_setpriv() {
    let missing = missing_for_unprivileged_runs();
    assert!(
        missing.is_empty(),
        "this machine cannot run the tests as root and as uid {NOBODY}: it lacks {}",
        missing.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_can_run_tests_as_root_and_as_nobody() {
        require_root_and_setpriv();
    }

    #[test]
    fn as_nobody_keeps_program_arguments_environment_and_directory() {
        let directory = tempfile::tempdir().unwrap();
        chown_to_nobody(directory.path());
        let mut inner = Command::new("/bin/sh");
        inner
            .args([
                "-c",
                "echo \"$(id -u):$(id -g):$(id -G):$KEPT:${DROPPED-unset}:$(pwd)\"",
            ])
            .env_clear()
            .env("KEPT", "yes")
            .current_dir(directory.path());
        let output = as_nobody(&inner).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            format!(
                "65534:65534:65534:yes:unset:{}\n",
                directory.path().display()
            )
        );
        // Control: the same command unchanged runs as root.
        let output = inner.output().unwrap();
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .starts_with("0:0:")
        );
    }

    #[test]
    fn chown_to_nobody_gives_the_whole_tree_away() {
        use std::os::unix::fs::MetadataExt;
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir(directory.path().join("sub")).unwrap();
        std::fs::write(directory.path().join("sub/file"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", directory.path().join("link")).unwrap();
        chown_to_nobody(directory.path());
        for relative in ["", "sub", "sub/file", "link"] {
            let metadata = std::fs::symlink_metadata(directory.path().join(relative)).unwrap();
            assert_eq!(
                (metadata.uid(), metadata.gid()),
                (NOBODY, NOBODY),
                "{relative}"
            );
        }
        assert_eq!(std::fs::metadata("/etc/passwd").unwrap().uid(), 0);
    }
}
