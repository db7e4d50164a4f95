//! How strongly a run enforces its policy: a value every caller gets, never a guess.

use std::path::PathBuf;

use codex_sandbox_policy::{Enforcement, SandboxPolicy};

/// How `max_processes` holds for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessLimitMechanism {
    /// A pids cgroup per run, created below `parent` (cgroup v2); it also ends the tree.
    CgroupV2 { parent: PathBuf },
    /// A pids cgroup per run in the cgroup v1 `pids` hierarchy below `parent`.
    CgroupV1 { parent: PathBuf },
    /// `RLIMIT_NPROC` only: it binds a non-root user (counted per user id), not root.
    Rlimit,
    /// Nothing: no limit configured, or root without a usable pids cgroup (see
    /// `linux_sandbox.require_process_limit`), or a backend without one (Seatbelt).
    None,
}

impl ProcessLimitMechanism {
    /// `"cgroup-v2"`, `"cgroup-v1"`, `"rlimit"` or `"none"` (the `--dry-run` JSON value).
    pub fn kind(&self) -> &'static str {
        match self {
            ProcessLimitMechanism::CgroupV2 { .. } => "cgroup-v2",
            ProcessLimitMechanism::CgroupV1 { .. } => "cgroup-v1",
            ProcessLimitMechanism::Rlimit => "rlimit",
            ProcessLimitMechanism::None => "none",
        }
    }

    /// The directory each run's cgroup is created in.
    pub fn cgroup_parent(&self) -> Option<&std::path::Path> {
        match self {
            ProcessLimitMechanism::CgroupV2 { parent }
            | ProcessLimitMechanism::CgroupV1 { parent } => Some(parent),
            ProcessLimitMechanism::Rlimit | ProcessLimitMechanism::None => None,
        }
    }
}

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
    /// How `max_processes` holds (`None` when nothing holds it).
    pub process_limit: ProcessLimitMechanism,
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
            process_limit: match &linux.process_limit {
                codex_linux_sandbox::ProcessLimit::CgroupV2 { parent } => {
                    ProcessLimitMechanism::CgroupV2 {
                        parent: parent.clone(),
                    }
                }
                codex_linux_sandbox::ProcessLimit::CgroupV1 { parent, .. } => {
                    ProcessLimitMechanism::CgroupV1 {
                        parent: parent.clone(),
                    }
                }
                codex_linux_sandbox::ProcessLimit::Rlimit => ProcessLimitMechanism::Rlimit,
                codex_linux_sandbox::ProcessLimit::None => ProcessLimitMechanism::None,
            },
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
            process_limit: ProcessLimitMechanism::None,
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
        match (self.max_processes, &self.process_limit) {
            (Some(limit), ProcessLimitMechanism::CgroupV2 { .. }) => {
                parts.push(format!("at most {limit} processes (pids cgroup v2)"));
            }
            (Some(limit), ProcessLimitMechanism::CgroupV1 { .. }) => {
                parts.push(format!("at most {limit} processes (pids cgroup v1)"));
            }
            (Some(limit), ProcessLimitMechanism::Rlimit) => {
                parts.push(format!("at most {limit} processes (RLIMIT_NPROC)"));
            }
            // Root without a pids cgroup: the configured limit does not hold; say so.
            (Some(_), ProcessLimitMechanism::None) => {
                parts.push("no process limit (root, no pids cgroup)".into());
            }
            (None, _) => {}
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(max_processes: Option<u64>, process_limit: ProcessLimitMechanism) -> String {
        EnforcementReport {
            backend: "bubblewrap",
            namespaces: true,
            network_namespace: true,
            seccomp: true,
            landlock_abi: None,
            landlock_scoped: false,
            max_processes,
            process_limit,
            full_access: false,
        }
        .describe()
    }

    #[test]
    fn the_summary_says_how_the_process_limit_holds() {
        let cgroup = ProcessLimitMechanism::CgroupV1 {
            parent: PathBuf::from("/sys/fs/cgroup/pids"),
        };
        assert_eq!(
            report(Some(64), cgroup),
            "bubblewrap, namespaces, seccomp, at most 64 processes (pids cgroup v1)"
        );
        assert_eq!(
            report(Some(64), ProcessLimitMechanism::Rlimit),
            "bubblewrap, namespaces, seccomp, at most 64 processes (RLIMIT_NPROC)"
        );
        assert_eq!(
            report(Some(64), ProcessLimitMechanism::None),
            "bubblewrap, namespaces, seccomp, no process limit (root, no pids cgroup)"
        );
        assert_eq!(
            report(None, ProcessLimitMechanism::None),
            "bubblewrap, namespaces, seccomp"
        );
    }
}
