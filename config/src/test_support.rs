//! Test helpers: a temporary HOME/CODEX_HOME/system dir/repo layout and loader shortcuts.

use std::path::PathBuf;

use crate::{Config, LoadConfigError, LoaderOptions, RequirementsMode, load_config};

/// `base/home/.codex` (CODEX_HOME), `base/etc` (system dir), `base/repo/sub`; cwd is `repo`.
/// `BASE` in written text and overrides is replaced by the base path.
pub(crate) struct Env {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        for sub in ["home/.codex", "etc", "repo/sub"] {
            std::fs::create_dir_all(base.join(sub)).unwrap();
        }
        Env { _dir: dir, base }
    }

    pub fn home(&self) -> PathBuf {
        self.base.join("home/.codex")
    }

    pub fn repo(&self) -> PathBuf {
        self.base.join("repo")
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.base.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text.replace("BASE", &self.base.to_string_lossy())).unwrap();
        path
    }

    pub fn options(&self, overrides: &[&str]) -> LoaderOptions {
        LoaderOptions {
            cwd: self.repo(),
            codex_home: self.home(),
            system_config_dir: self.base.join("etc"),
            raw_overrides: overrides
                .iter()
                .map(|raw| raw.replace("BASE", &self.base.to_string_lossy()))
                .collect(),
            profile: None,
            strict: false,
            requirements: RequirementsMode::Include,
            sandbox: crate::SandboxSelection::default(),
            defer_sandbox_refusals: false,
        }
    }

    pub fn load(&self, overrides: &[&str]) -> Config {
        load_config(&self.options(overrides)).unwrap()
    }

    pub fn error(&self, options: &LoaderOptions) -> String {
        load_config(options).unwrap_err().to_string()
    }

    pub fn trust_repo(&self, level: &str) {
        self.write(
            "home/.codex/config.toml",
            &format!("[projects.\"BASE/repo\"]\ntrust_level = \"{level}\"\n"),
        );
    }

    /// Run `git` in `relative` (below the base) with a clean configuration.
    pub fn git(&self, relative: &str, args: &[&str]) {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(self.base.join(relative))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.base)
            .output()
            .expect("git must be installed to run this test");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Write `etc/requirements.toml`; returns its path as shown in messages.
    pub fn requirements(&self, text: &str) -> String {
        self.write("etc/requirements.toml", text)
            .display()
            .to_string()
    }

    pub fn load_error(&self, overrides: &[&str]) -> LoadConfigError {
        load_config(&self.options(overrides)).unwrap_err()
    }
}
