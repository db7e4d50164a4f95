//! Shared harness: run the real `codex` binary with a fresh HOME, CODEX_HOME and system config
//! directory, and a cleared environment ([`TestHome`] from `codex-test-support`).

use std::ffi::OsStr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codex_test_support::TestHome;
pub use codex_test_support::{as_nobody, chown_to_nobody};

/// A test environment: `home/`, `home/.codex/` (CODEX_HOME), `etc/` (system config dir) and
/// `work/` (working directory), all inside one temporary directory.
pub struct TestEnv {
    home: TestHome,
}

impl Deref for TestEnv {
    type Target = TestHome;

    fn deref(&self) -> &TestHome {
        &self.home
    }
}

#[allow(dead_code)]
impl TestEnv {
    pub fn new() -> Self {
        TestEnv {
            home: TestHome::new(),
        }
    }

    /// `codex` with a cleared environment: only PATH, HOME, CODEX_HOME, the system config dir
    /// override and LANG=C are set; the working directory is `work/`.
    pub fn codex<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.home.command(env!("CARGO_BIN_EXE_codex"));
        command.args(args);
        command
    }
}

/// Run with `input` on stdin and capture.
pub use codex_test_support::output_with_stdin as with_stdin;

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

/// A path that does not exist yet inside `dir`.
#[allow(dead_code)]
pub fn fresh(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    assert!(!path.exists(), "{} exists already", path.display());
    path
}
