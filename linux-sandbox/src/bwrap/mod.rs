//! The bubblewrap backend's plan: which `bwrap`, its exact argv and environment.
//!
//! ```text
//! bwrap --new-session --die-with-parent --unshare-user --unshare-pid --unshare-uts [--unshare-ipc]
//!       [--unshare-net] [--disable-userns] --cap-drop ALL [--json-status-fd 4] [--seccomp 3]
//!       <filesystem args (mounts.rs)> [--setenv LD_… …] --chdir <canonical cwd> -- <command…>
//! ```
//! `--json-status-fd` only when `run()` spawns and waits (not when it execs `bwrap`).
//! Full access keeps the network and IPC namespaces, nested user namespaces and skips seccomp,
//! but still masks the deny rules and drops capabilities (which would otherwise allow unmounting
//! the masks).

pub(crate) mod discovery;
pub(crate) mod mounts;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Access, Enforcement, SandboxPolicy};

use crate::error::{PathRole, PlanSandboxError};
use crate::globs::Glob;
use crate::paths::check_writable_symlinks;
use crate::request::{SECCOMP_FD, STATUS_FD};

/// Everything the argv needs besides the filesystem arguments.
pub(crate) struct Invocation<'a> {
    pub policy: &'a SandboxPolicy,
    pub features: discovery::Features,
    pub filesystem: &'a [OsString],
    pub seccomp: bool,
    /// `--json-status-fd 4` (only when `run()` spawns `bwrap` and waits for it).
    pub status_fd: bool,
    pub cwd: &'a Path,
    pub loader_env: &'a [(OsString, OsString)],
    pub command: &'a [OsString],
}

/// The exact argv (including `argv[0]` = `bwrap`).
pub(crate) fn argv(invocation: &Invocation<'_>) -> Vec<OsString> {
    let managed = invocation.policy.enforcement == Enforcement::Managed;
    let mut argv: Vec<OsString> = Vec::new();
    let mut push = |parts: &[&str]| argv.extend(parts.iter().map(OsString::from));
    push(&[
        "bwrap",
        "--new-session",
        "--die-with-parent",
        "--unshare-user",
        "--unshare-pid",
        // The host's hostname and domain name stay out of reach (root inside is root outside).
        "--unshare-uts",
    ]);
    if managed {
        push(&["--unshare-ipc"]);
    }
    if invocation.policy.network_restricted() {
        push(&["--unshare-net"]);
    }
    if managed && invocation.features.disable_userns {
        push(&["--disable-userns"]);
    }
    push(&["--cap-drop", "ALL"]);
    if invocation.status_fd {
        push(&["--json-status-fd", &STATUS_FD.to_string()]);
    }
    if invocation.seccomp {
        push(&["--seccomp", &SECCOMP_FD.to_string()]);
    }
    argv.extend(invocation.filesystem.iter().cloned());
    for (name, value) in invocation.loader_env {
        argv.extend([OsString::from("--setenv"), name.clone(), value.clone()]);
    }
    argv.extend([
        OsString::from("--chdir"),
        invocation.cwd.as_os_str().to_os_string(),
    ]);
    argv.push(OsString::from("--"));
    argv.extend(invocation.command.iter().cloned());
    argv
}

/// Variables the dynamic loader and libc act on at startup. They would apply to `bwrap` itself,
/// outside the sandbox (a library planted in the workspace by an earlier run, loaded with the
/// caller's privileges), so they reach the command through `--setenv` instead.
pub(crate) fn is_loader_variable(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    bytes.starts_with(b"LD_")
        || [
            b"GCONV_PATH".as_slice(),
            b"GLIBC_TUNABLES",
            b"LOCPATH",
            b"NLSPATH",
            b"MALLOC_TRACE",
            b"HOSTALIASES",
        ]
        .contains(&bytes)
}

/// Directories whose binaries are not trusted as `bwrap`: the working directory and (for a managed
/// policy) every writable root, except `/` (which would leave nothing to trust).
pub(crate) fn untrusted_directories(policy: &SandboxPolicy, cwd: &Path) -> Vec<PathBuf> {
    let mut directories = Vec::new();
    if cwd != Path::new("/") {
        directories.push(cwd.to_path_buf());
    }
    if policy.enforcement == Enforcement::Managed {
        let writable = policy
            .writable_roots
            .iter()
            .map(|root| root.root.clone())
            .chain(
                policy
                    .rules
                    .iter()
                    .filter(|rule| rule.access == Access::Write)
                    .map(|rule| rule.path.clone()),
            );
        for root in writable {
            if root != Path::new("/") {
                directories.push(std::fs::canonicalize(&root).unwrap_or(root));
            }
        }
    }
    directories
}

/// Expand the deny globs. The literal base of each pattern must not cross a writable symlink
/// (managed policies), like any deny path.
pub(crate) fn expand_deny_globs(policy: &SandboxPolicy) -> Result<Vec<PathBuf>, PlanSandboxError> {
    let managed = policy.enforcement == Enforcement::Managed;
    let is_writable = |path: &Path| managed && policy.access_for(path) == Access::Write;
    let mut matches = Vec::new();
    for pattern in &policy.deny_globs {
        let glob = Glob::parse(pattern)?;
        if managed {
            check_writable_symlinks(glob.base(), PathRole::DenyRead, &is_writable)?;
        }
        matches.extend(glob.expand(policy.glob_scan_max_depth)?);
        if matches.len() > crate::globs::MAX_MATCHES {
            return Err(PlanSandboxError::DenyGlobScan {
                pattern: pattern.clone(),
                reason: format!("more than {} matches in total", crate::globs::MAX_MATCHES),
            });
        }
    }
    matches.sort();
    matches.dedup();
    Ok(matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_variables_are_recognised() {
        assert!(is_loader_variable(OsStr::new("LD_PRELOAD")));
        assert!(is_loader_variable(OsStr::new("LD_LIBRARY_PATH")));
        assert!(is_loader_variable(OsStr::new("GLIBC_TUNABLES")));
        assert!(!is_loader_variable(OsStr::new("PATH")));
        assert!(!is_loader_variable(OsStr::new("OLD_PWD")));
    }
}
