//! Which backend runs commands and its settings, resolved once from the configuration.

use std::path::PathBuf;

/// The mechanism that enforces the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxBackend {
    /// Linux: bubblewrap + seccomp, Landlock inside as a second layer (the default on Linux).
    Bubblewrap,
    /// Linux: Landlock + seccomp without namespaces (`use_legacy_landlock`).
    Landlock,
    /// macOS: Seatbelt (`/usr/bin/sandbox-exec`).
    Seatbelt,
}

impl SandboxBackend {
    /// What this OS uses by default.
    pub fn native() -> SandboxBackend {
        if cfg!(target_os = "macos") {
            SandboxBackend::Seatbelt
        } else {
            SandboxBackend::Bubblewrap
        }
    }
}

/// Everything besides the policy that decides how a command is sandboxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSettings {
    pub backend: SandboxBackend,
    /// `linux_sandbox.bwrap_path` (system, user, profile or `-c` layers only).
    pub bwrap_path: Option<PathBuf>,
    /// `linux_sandbox.max_processes` (`None`: no limit).
    pub max_processes: Option<u64>,
    /// `linux_sandbox.landlock_layer`.
    pub landlock_layer: bool,
    /// `linux_sandbox.require_process_limit`.
    pub require_process_limit: bool,
    /// The binary that runs as the sandbox stage (Linux); the running one by default. Only
    /// callers that are not the `codex` binary (tests) set it.
    pub stage_executable: Option<PathBuf>,
    /// Seatbelt: print the sandbox's denials after the command exits (`--log-denials`).
    pub seatbelt_log_denials: bool,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            backend: SandboxBackend::native(),
            bwrap_path: None,
            max_processes: Some(codex_config::DEFAULT_MAX_PROCESSES),
            landlock_layer: true,
            require_process_limit: false,
            stage_executable: None,
            seatbelt_log_denials: false,
        }
    }
}

impl SandboxSettings {
    /// From the resolved configuration: the native backend (Landlock on Linux with
    /// `use_legacy_landlock`) and `[linux_sandbox]`.
    pub fn from_config(config: &codex_config::Config) -> SandboxSettings {
        let linux = &config.linux_sandbox;
        let backend = match (SandboxBackend::native(), linux.backend) {
            (SandboxBackend::Bubblewrap, codex_config::LinuxSandboxBackend::Landlock) => {
                SandboxBackend::Landlock
            }
            (native, _) => native,
        };
        SandboxSettings {
            backend,
            bwrap_path: linux.bwrap_path.clone(),
            max_processes: linux.max_processes,
            landlock_layer: linux.landlock_layer,
            require_process_limit: linux.require_process_limit,
            stage_executable: None,
            seatbelt_log_denials: false,
        }
    }

    #[cfg(target_os = "linux")]
    pub(crate) fn linux_options(&self) -> codex_linux_sandbox::LinuxOptions {
        codex_linux_sandbox::LinuxOptions {
            bwrap_path: self.bwrap_path.clone(),
            max_processes: self.max_processes,
            landlock_layer: self.landlock_layer,
            require_process_limit: self.require_process_limit,
            stage_executable: self.stage_executable.clone(),
        }
    }
}
