//! What this machine offers the Linux backends, for `codex doctor`: which bubblewrap the planner
//! would use and why it trusts it (or why it refuses each copy), whether user namespaces can be
//! created and which setting blocks them, seccomp, and the Landlock ABI. Read-only probes that
//! call the same discovery and sysctl code as [`plan`](crate::plan); the only process started is
//! the chosen, already trusted `bwrap --version`.

use std::path::{Path, PathBuf};

use codex_sandbox_policy::SandboxPolicy;

use crate::error::PlanSandboxError;

/// Why a bubblewrap is trusted to run outside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BubblewrapTrust {
    /// `linux_sandbox.bwrap_path` names it (a system, user, profile or `-c` layer).
    Configured,
    /// `/usr/bin/bwrap`, owned by root with only root-owned, non-writable directories above it.
    SystemLocation,
    /// The `bwrap` of this absolute `PATH` entry, root-owned all the way up.
    RootOwnedPathEntry(PathBuf),
}

/// The bubblewrap a plan would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundBubblewrap {
    /// The canonical path that is executed.
    pub path: PathBuf,
    pub trust: BubblewrapTrust,
    /// The first line of `bwrap --version` (`bubblewrap 0.8.0`), when it printed one.
    pub version: Option<String>,
    /// It supports `--disable-userns` (bubblewrap >= 0.8.0).
    pub disable_userns: bool,
    /// Installed setuid root (then no unprivileged user namespaces are needed).
    pub setuid: bool,
}

/// A `bwrap` that exists on the search path but is never executed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedBubblewrap {
    pub path: PathBuf,
    pub reason: String,
}

/// The outcome of bubblewrap discovery, with its reasons.
#[derive(Debug)]
pub struct BubblewrapDiscovery {
    /// Exactly what [`plan`](crate::plan) would use, or its error.
    pub result: Result<FoundBubblewrap, PlanSandboxError>,
    /// Candidates on the search path (`/usr/bin/bwrap`, then `PATH`) that exist but are refused
    /// (a copy planted in a writable directory, inside the working directory …), in search
    /// order; empty with `linux_sandbox.bwrap_path`.
    pub refused: Vec<RefusedBubblewrap>,
}

/// Find bubblewrap as a plan for `policy` in `cwd` would (`configured` is
/// `linux_sandbox.bwrap_path`), and say why the copy found is trusted and which were refused.
pub fn discover_bubblewrap(
    configured: Option<&Path>,
    policy: &SandboxPolicy,
    cwd: &Path,
) -> BubblewrapDiscovery {
    use crate::bwrap::discovery;
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let untrusted = crate::bwrap::untrusted_directories(policy, &cwd);
    let found = discovery::find(configured, &untrusted);
    let mut refused = Vec::new();
    let mut trust = BubblewrapTrust::Configured;
    if configured.is_none() {
        let path_var = std::env::var_os("PATH");
        let system = Path::new(discovery::SYSTEM_BWRAP);
        let mut trust_found = None;
        // One candidate at a time through the same check `find` applies to the list.
        for candidate in discovery::candidates(path_var.as_deref(), system) {
            let verdict = discovery::locate(
                std::slice::from_ref(&candidate),
                &untrusted,
                &discovery::trusted_location,
            );
            match verdict {
                Ok(real) => {
                    let is_found = found.as_ref().is_ok_and(|found| found.path == real);
                    if is_found && trust_found.is_none() {
                        trust_found = Some(if candidate == system {
                            BubblewrapTrust::SystemLocation
                        } else {
                            let entry = candidate.parent().unwrap_or(Path::new("/"));
                            BubblewrapTrust::RootOwnedPathEntry(entry.to_path_buf())
                        });
                    }
                }
                Err(PlanSandboxError::BubblewrapNotTrusted { path, reason }) => {
                    refused.push(RefusedBubblewrap { path, reason });
                }
                Err(_) => {}
            }
        }
        trust = trust_found.unwrap_or(BubblewrapTrust::SystemLocation);
    }
    let result = found.map(|bubblewrap| FoundBubblewrap {
        version: version(&bubblewrap.path),
        path: bubblewrap.path,
        trust,
        disable_userns: bubblewrap.features.disable_userns,
        setuid: bubblewrap.features.setuid,
    });
    BubblewrapDiscovery { result, refused }
}

/// The first line of `<path> --version`, given two seconds.
fn version(path: &Path) -> Option<String> {
    let mut child = std::process::Command::new(path)
        .arg("--version")
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next()?.trim();
    // Only printable text of a sane length: the output is shown to the user.
    (!line.is_empty() && line.len() <= 200 && line.chars().all(|c| !c.is_control()))
        .then(|| line.to_string())
}

/// The settings that decide whether a user namespace can be created, and what they imply for
/// the calling user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNamespaceReport {
    /// `/proc/sys/user/max_user_namespaces`.
    pub max_user_namespaces: Option<u64>,
    /// `/proc/sys/kernel/unprivileged_userns_clone` (Debian kernels).
    pub unprivileged_userns_clone: Option<u64>,
    /// `/proc/sys/kernel/apparmor_restrict_unprivileged_userns` (Ubuntu).
    pub apparmor_restrict_unprivileged_userns: Option<u64>,
    /// The caller is root (the unprivileged switches do not apply).
    pub privileged: bool,
    /// A setting that certainly prevents it (a plan refuses with this reason).
    pub blocker: Option<String>,
    /// A setting that may prevent it (named when bubblewrap fails to start).
    pub possible_blocker: Option<String>,
}

/// Read the user-namespace sysctls the planner reads.
pub fn user_namespaces() -> UserNamespaceReport {
    let sysctls = crate::userns::UserNamespaceSysctls::read();
    // SAFETY: geteuid has no preconditions.
    let privileged = unsafe { libc::geteuid() } == 0;
    UserNamespaceReport {
        blocker: sysctls.definite_blocker(privileged),
        possible_blocker: sysctls.possible_blocker(privileged),
        max_user_namespaces: sysctls.max_user_namespaces,
        unprivileged_userns_clone: sysctls.unprivileged_userns_clone,
        apparmor_restrict_unprivileged_userns: sysctls.apparmor_restrict_unprivileged_userns,
        privileged,
    }
}

/// What to do when user namespaces are blocked (the planner's hint).
pub const USER_NAMESPACE_HINT: &str = crate::userns::ENABLE_HINT;

/// Whether the kernel accepts seccomp filter programs whose rules return an errno (what the
/// sandbox's program uses): `seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &SECCOMP_RET_ERRNO)`, which
/// installs nothing.
#[cfg(target_os = "linux")]
pub fn seccomp_available() -> bool {
    const SECCOMP_GET_ACTION_AVAIL: libc::c_uint = 2;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    let action = SECCOMP_RET_ERRNO;
    // SAFETY: the kernel reads one u32 from `action`, which outlives the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_ACTION_AVAIL,
            0 as libc::c_uint,
            &action as *const u32,
        )
    };
    result == 0
}

/// The running kernel's Landlock ABI version (<= 0: unavailable).
#[cfg(target_os = "linux")]
pub fn landlock_abi() -> i32 {
    crate::landlock::kernel_abi()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    const READ_ONLY: &str = r#"{"profile":":read-only","enforcement":"managed","cwd":"/","rules":[],"network":"restricted"}"#;

    #[test]
    fn the_installed_bubblewrap_is_found_with_its_reason_and_version() {
        let report = discover_bubblewrap(
            None,
            &SandboxPolicy::from_json(READ_ONLY).unwrap(),
            Path::new("/"),
        );
        let found = report.result.expect("bubblewrap is installed");
        assert_eq!(found.trust, BubblewrapTrust::SystemLocation);
        assert!(
            found
                .version
                .as_deref()
                .is_some_and(|version| version.starts_with("bubblewrap ")),
            "{found:?}"
        );
    }

    #[test]
    fn a_bwrap_planted_in_the_working_directory_is_refused_and_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let planted = root.join("bwrap");
        std::fs::write(&planted, "#!/bin/sh\ntouch ran\n").unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
        let report = discover_bubblewrap(
            Some(&planted),
            &SandboxPolicy::from_json(READ_ONLY).unwrap(),
            &root,
        );
        let error = report.result.unwrap_err();
        assert!(
            matches!(error, PlanSandboxError::BubblewrapNotTrusted { ref path, .. } if *path == planted),
            "{error}"
        );
        assert!(!root.join("ran").exists());
    }

    #[test]
    fn probes_answer_on_this_kernel() {
        // The development and CI machines have seccomp filters and Landlock.
        assert!(seccomp_available());
        assert!(landlock_abi() >= 1);
        let report = user_namespaces();
        assert_eq!(report.blocker, None, "{report:?}");
    }
}
