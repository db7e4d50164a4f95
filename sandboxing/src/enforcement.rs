//! How strongly a run enforces its policy: a value every caller gets, never a guess.

use codex_sandbox_policy::{Enforcement, SandboxPolicy};

/// What the sandbox of a run applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnforcementReport {
    /// `"bubblewrap"`, `"landlock"` or `"seatbelt"`.
    pub backend: &'static str,
    /// Private user, pid, ipc and UTS namespaces and mount view.
    pub namespaces: bool,
    /// A private network namespace.
    pub network_namespace: bool,
    pub seccomp: bool,
    /// Landlock's ABI when Landlock is applied (second layer or backend).
    pub landlock_abi: Option<i32>,
    /// Landlock's signal and abstract-socket scoping.
    pub landlock_scoped: bool,
    pub max_processes: Option<u64>,
    /// Full access: only the credential masks.
    pub full_access: bool,
}

impl EnforcementReport {
    #[cfg(target_os = "linux")]
    pub(crate) fn from_linux(linux: &codex_linux_sandbox::LinuxEnforcement) -> Self {
        EnforcementReport {
            backend: linux.backend,
            namespaces: linux.namespaces,
            network_namespace: linux.network_namespace,
            seccomp: linux.seccomp,
            landlock_abi: linux.landlock_abi,
            landlock_scoped: linux.landlock_scoped,
            max_processes: linux.max_processes,
            full_access: linux.full_access,
        }
    }

    pub(crate) fn seatbelt(policy: &SandboxPolicy) -> Self {
        EnforcementReport {
            backend: "seatbelt",
            namespaces: false,
            network_namespace: false,
            seccomp: false,
            landlock_abi: None,
            landlock_scoped: false,
            max_processes: None,
            full_access: policy.enforcement == Enforcement::FullAccess,
        }
    }

    /// One line for humans (`--dry-run`, `codex doctor`).
    pub fn describe(&self) -> String {
        let mut parts = vec![self.backend.to_string()];
        if self.full_access {
            parts.push("full access (credential masks only)".into());
        }
        if self.namespaces {
            parts.push("namespaces".into());
        }
        if self.seccomp {
            parts.push("seccomp".into());
        }
        if let Some(abi) = self.landlock_abi {
            let layer = if self.backend == "landlock" {
                "Landlock"
            } else {
                "Landlock layer"
            };
            parts.push(format!("{layer} (ABI {abi})"));
        }
        if let Some(limit) = self.max_processes {
            parts.push(format!("at most {limit} processes"));
        }
        parts.join(", ")
    }
}
