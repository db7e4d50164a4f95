//! Shared harness: run the real `codex` binary with a fresh HOME, CODEX_HOME and system config
//! directory, and a cleared environment.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A sandboxed test environment: `home/`, `home/.codex/` (CODEX_HOME), `etc/` (system config dir)
/// and `work/` (working directory), all inside one temporary directory.
pub struct TestEnv {
    pub dir: TempDir,
}

#[allow(dead_code)]
impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("codex-test-")
            .tempdir()
            .expect("create temp dir");
        for sub in ["home/.codex", "etc", "work"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create test dirs");
        }
        TestEnv { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonical temp dir")
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    pub fn codex_home(&self) -> PathBuf {
        self.root().join("home/.codex")
    }

    /// Stands in for `/etc/codex` (see `CODEX_SYSTEM_CONFIG_DIR` in the README).
    pub fn system_dir(&self) -> PathBuf {
        self.root().join("etc")
    }

    pub fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.root().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// `codex` with a cleared environment: only PATH, HOME, CODEX_HOME, the system config dir
    /// override and LANG=C are set; the working directory is `work/`.
    pub fn codex<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(env!("CARGO_BIN_EXE_codex"));
        command
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .env("HOME", self.home())
            .env("CODEX_HOME", self.codex_home())
            .env("CODEX_SYSTEM_CONFIG_DIR", self.system_dir())
            .env("LANG", "C")
            .current_dir(self.work())
            .stdin(Stdio::null());
        command
    }
}

/// Run with `input` on stdin and capture.
pub fn with_stdin(mut command: Command, input: &str) -> Output {
    use std::io::Write as _;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn codex");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for codex")
}

/// Run and capture; never panics on a non-zero exit. Takes `Command` or `&mut Command`.
pub fn run(mut command: impl std::borrow::BorrowMut<Command>) -> Output {
    command.borrow_mut().output().expect("spawn codex")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit code, or 128+signal.
pub fn code(output: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    output
        .status
        .code()
        .unwrap_or_else(|| 128 + output.status.signal().unwrap_or(0))
}

/// True when the current process runs as root.
#[allow(dead_code)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

#[allow(dead_code)]
unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// A path that does not exist yet inside `dir`.
#[allow(dead_code)]
pub fn fresh(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    assert!(!path.exists(), "{} exists already", path.display());
    path
}

/// `command` run as uid/gid 65534 through `setpriv` (same arguments, environment and working
/// directory), for the tests that must hold for an unprivileged user too.
#[allow(dead_code)]
pub fn as_nobody(inner: &Command) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
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

/// Give the whole test tree to uid/gid 65534.
#[allow(dead_code)]
pub fn chown_to_nobody(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let status = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success());
}
