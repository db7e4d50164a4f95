//! [`TestHome`]: one temporary directory holding a fresh HOME, CODEX_HOME, system configuration
//! directory and working directory, and the environment a CLI test gives the binary.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// The `PATH` every test command gets (nothing from the developer's environment).
pub const TEST_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

/// `home/` (HOME), `home/.codex/` (CODEX_HOME), `etc/` (`CODEX_SYSTEM_CONFIG_DIR`, standing in
/// for `/etc/codex`) and `work/` (the working directory), all inside one temporary directory that
/// is removed on drop.
pub struct TestHome {
    dir: TempDir,
    root: PathBuf,
}

impl TestHome {
    /// A fresh tree in the system temporary directory.
    pub fn new() -> TestHome {
        TestHome::create(
            tempfile::Builder::new().prefix("codex-test-").tempdir(),
            &[],
        )
    }

    /// A fresh tree in `parent` (e.g. `/var/tmp`, which sandboxes treat unlike `/tmp`), with
    /// `extra` directories (relative) created as well.
    pub fn new_in(parent: &Path, prefix: &str, extra: &[&str]) -> TestHome {
        TestHome::create(
            tempfile::Builder::new().prefix(prefix).tempdir_in(parent),
            extra,
        )
    }

    fn create(dir: std::io::Result<TempDir>, extra: &[&str]) -> TestHome {
        let dir = dir.unwrap_or_else(|error| panic!("create the test's temporary HOME: {error}"));
        for relative in ["home/.codex", "etc", "work"].iter().chain(extra) {
            let path = dir.path().join(relative);
            std::fs::create_dir_all(&path)
                .unwrap_or_else(|error| panic!("create `{}`: {error}", path.display()));
        }
        let root = dir
            .path()
            .canonicalize()
            .unwrap_or_else(|error| panic!("canonicalize the temporary directory: {error}"));
        TestHome { dir, root }
    }

    /// The canonical temporary directory everything else is in.
    pub fn root(&self) -> PathBuf {
        self.root.clone()
    }

    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    pub fn codex_home(&self) -> PathBuf {
        self.root.join("home/.codex")
    }

    /// Stands in for `/etc/codex` (`CODEX_SYSTEM_CONFIG_DIR`).
    pub fn system_dir(&self) -> PathBuf {
        self.root.join("etc")
    }

    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// Write `contents` to `relative` (below the root), creating its directories.
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|error| panic!("create `{}`: {error}", parent.display()));
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|error| panic!("write `{}`: {error}", path.display()));
        path
    }

    /// The whole environment of a test command: `PATH`, `HOME`, `CODEX_HOME`,
    /// `CODEX_SYSTEM_CONFIG_DIR` and `LANG=C`.
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("PATH", TEST_PATH.into()),
            ("HOME", self.home().into()),
            ("CODEX_HOME", self.codex_home().into()),
            ("CODEX_SYSTEM_CONFIG_DIR", self.system_dir().into()),
            ("LANG", "C".into()),
        ]
    }

    /// `program` with a cleared environment but [`TestHome::env`], in `work/`, stdin
    /// `/dev/null`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .envs(self.env())
            .current_dir(self.work())
            .stdin(Stdio::null());
        command
    }

    /// The temporary directory as created (not canonicalised).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for TestHome {
    fn default() -> Self {
        TestHome::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_sees_only_the_test_environment_and_the_tree_is_removed() {
        let home = TestHome::new();
        home.write("home/.codex/config.toml", "model = \"x\"\n");
        let output = home.command("/usr/bin/env").output().unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        let root = home.root().display().to_string();
        assert_eq!(
            lines,
            vec![
                format!("CODEX_HOME={root}/home/.codex"),
                format!("CODEX_SYSTEM_CONFIG_DIR={root}/etc"),
                format!("HOME={root}/home"),
                "LANG=C".to_string(),
                format!("PATH={TEST_PATH}"),
            ]
        );
        let pwd = home.command("/bin/pwd").output().unwrap();
        assert_eq!(
            String::from_utf8(pwd.stdout).unwrap(),
            format!("{root}/work\n")
        );
        assert!(home.codex_home().join("config.toml").is_file());
        let root = home.root();
        drop(home);
        assert!(!root.exists());
    }

    #[test]
    fn new_in_creates_the_extra_directories_there() {
        let parent = tempfile::tempdir().unwrap();
        let home = TestHome::new_in(parent.path(), "codex-x-", &["work/.git", "outside"]);
        assert!(
            home.root()
                .starts_with(parent.path().canonicalize().unwrap())
        );
        assert!(home.work().join(".git").is_dir());
        assert!(home.root().join("outside").is_dir());
        assert!(home.system_dir().is_dir());
    }
}
