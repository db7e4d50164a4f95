//! [`WriteGuard`]: which real paths a patch may create, change or remove.
//!
//! Built from a [`SandboxPolicy`], it allows a path only when all of these hold:
//! - no `Deny` rule of the policy covers it (not even one a more specific rule reopens);
//! - it is not a protected carve-out (`.git`, `.codex`, `.agents` in a writable root, a `.git`
//!   pointer's target, `$CODEX_HOME`), nor inside a `.git`, `.codex` or `.agents` directory at
//!   any depth (a nested `.codex/config.toml` or `.git/hooks` would be trusted by a later run
//!   started there; the Linux sandbox cannot mask those, so the check here is stricter; not
//!   under `:danger-full-access`);
//! - the policy grants write access to it (`policy.access_for(path).can_write()`);
//! - it is not below the literal base directory of a deny-read glob. The glob itself is not
//!   evaluated here (the sandbox crates own that grammar), so this errs on the side of refusing.
//!
//! The policy's own paths are resolved to their real locations (symbolic links followed) the
//! way the Linux backend binds them, and every check is made against the real path the patch
//! would write; protection and denials are checked in both spellings.

use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Enforcement, PROTECTED_METADATA_NAMES, SandboxPolicy};

use crate::paths::{LastComponent, resolve};

/// Decides whether a patch may write a (real, absolute) path.
#[derive(Debug, Clone)]
pub struct WriteGuard {
    kind: GuardKind,
}

#[derive(Debug, Clone)]
enum GuardKind {
    Unrestricted,
    Policy {
        policy: Box<SandboxPolicy>,
        resolved: Box<SandboxPolicy>,
    },
}

/// Why a path may not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusalReason {
    /// The policy has no writable path at all.
    ReadOnlySandbox,
    /// The path is outside every writable root.
    OutsideWritableRoots,
    /// The path is a protected carve-out of a writable root.
    Protected,
    /// A `Deny` rule covers the path.
    Denied,
    /// The path is below the base directory of this deny-read glob.
    DenyGlob { pattern: String },
}

/// A path the guard refused, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", refusal_message(path, reason))]
pub struct WriteRefusal {
    pub path: PathBuf,
    pub reason: RefusalReason,
}

fn refusal_message(path: &Path, reason: &RefusalReason) -> String {
    let path = path.display();
    match reason {
        RefusalReason::ReadOnlySandbox => {
            "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
                .to_string()
        }
        RefusalReason::OutsideWritableRoots => format!(
            "patch rejected: writing outside of the project; rejected by user approval settings (`{path}` is not inside a writable root)"
        ),
        RefusalReason::Protected => format!(
            "patch rejected: `{path}` is protected (`.git`, `.codex`, `.agents` and the Codex home stay read-only in the sandbox)"
        ),
        RefusalReason::Denied => {
            format!("patch rejected: `{path}` is denied by the sandbox policy")
        }
        RefusalReason::DenyGlob { pattern } => format!(
            "patch rejected: `{path}` may match the deny-read pattern `{pattern}`, which apply_patch cannot check; edit the file with a shell command instead"
        ),
    }
}

impl WriteGuard {
    /// Allow every path: for the `apply_patch` command run inside an OS sandbox, which enforces
    /// the policy itself.
    pub fn unrestricted() -> Self {
        WriteGuard {
            kind: GuardKind::Unrestricted,
        }
    }

    /// Allow what `policy` lets a sandboxed command write (see the module documentation).
    pub fn for_policy(policy: &SandboxPolicy) -> Self {
        WriteGuard {
            kind: GuardKind::Policy {
                policy: Box::new(policy.clone()),
                resolved: Box::new(resolve_policy(policy)),
            },
        }
    }

    /// Whether the real path `path` (absolute, symbolic links already resolved) may be written.
    pub fn check(&self, path: &Path) -> Result<(), WriteRefusal> {
        let GuardKind::Policy { policy, resolved } = &self.kind else {
            return Ok(());
        };
        let refuse = |reason| {
            Err(WriteRefusal {
                path: path.to_path_buf(),
                reason,
            })
        };
        let path = codex_sandbox_policy::normalize(path);
        let spellings = [policy.as_ref(), resolved.as_ref()];
        if spellings
            .iter()
            .any(|policy| policy.denied_paths().any(|denied| path.starts_with(denied)))
        {
            return refuse(RefusalReason::Denied);
        }
        let nested_metadata =
            policy.enforcement == Enforcement::Managed && has_metadata_component(&path);
        if nested_metadata || spellings.iter().any(|policy| policy.is_protected(&path)) {
            return refuse(RefusalReason::Protected);
        }
        if let Some(pattern) = policy.denying_glob(&path) {
            return refuse(RefusalReason::DenyGlob {
                pattern: pattern.as_str().to_string(),
            });
        }
        if resolved.access_for(&path).can_write() {
            return Ok(());
        }
        if resolved.rules.iter().any(|rule| rule.access.can_write()) {
            refuse(RefusalReason::OutsideWritableRoots)
        } else {
            refuse(RefusalReason::ReadOnlySandbox)
        }
    }
}

/// True when a component of `path` is `.git`, `.codex` or `.agents`.
fn has_metadata_component(path: &Path) -> bool {
    path.components().any(|component| {
        PROTECTED_METADATA_NAMES
            .iter()
            .any(|name| component.as_os_str() == *name)
    })
}

/// `policy` with every path replaced by its real location.
fn resolve_policy(policy: &SandboxPolicy) -> SandboxPolicy {
    let mut resolved = policy.clone();
    for rule in &mut resolved.rules {
        rule.path = real(&rule.path);
    }
    for root in &mut resolved.writable_roots {
        root.root = real(&root.root);
        for protected in &mut root.protected {
            protected.path = real(&protected.path);
        }
    }
    resolved
}

fn real(path: &Path) -> PathBuf {
    resolve(Path::new("/"), path, LastComponent::Follow)
        .unwrap_or_else(|_| codex_sandbox_policy::normalize(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_sandbox_policy::{Access, Enforcement, NetworkAccess, PathRule, writable_root};

    fn policy(root: &Path, rules: &[(&Path, Access)]) -> SandboxPolicy {
        let rules: Vec<PathRule> = rules
            .iter()
            .map(|(path, access)| PathRule {
                path: path.to_path_buf(),
                access: *access,
            })
            .collect();
        let writable_roots = rules
            .iter()
            .filter(|rule| rule.access == Access::Write)
            .map(|rule| writable_root(&rule.path, root))
            .collect();
        SandboxPolicy {
            profile: ":workspace".to_string(),
            enforcement: Enforcement::Managed,
            cwd: root.to_path_buf(),
            rules,
            platform_defaults: false,
            deny_globs: Vec::new(),
            glob_scan_max_depth: None,
            writable_roots,
            network: NetworkAccess::Restricted,
            unix_sockets: Vec::new(),
        }
    }

    fn reason(guard: &WriteGuard, path: &Path) -> Option<RefusalReason> {
        guard.check(path).err().map(|refusal| refusal.reason)
    }

    #[test]
    fn workspace_policy_allows_the_root_but_not_metadata_denials_or_outside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("ws");
        std::fs::create_dir_all(&root).unwrap();
        let secret = root.join("secret");
        let mut policy = policy(
            &root,
            &[
                (Path::new("/"), Access::Read),
                (&root, Access::Write),
                (&secret, Access::Deny),
                (&secret.join("reopened"), Access::Write),
            ],
        );
        let guard = WriteGuard::for_policy(&policy);
        assert_eq!(reason(&guard, &root.join("src/a.rs")), None);
        assert_eq!(
            reason(&guard, &root.join(".git/config")),
            Some(RefusalReason::Protected)
        );
        assert_eq!(
            reason(&guard, &root.join(".codex")),
            Some(RefusalReason::Protected)
        );
        assert_eq!(
            reason(&guard, &root.join("sub/.codex/config.toml")),
            Some(RefusalReason::Protected)
        );
        assert_eq!(
            reason(&guard, &root.join("vendor/lib/.git/hooks/pre-commit")),
            Some(RefusalReason::Protected)
        );
        assert_eq!(reason(&guard, &root.join(".github/workflows/ci.yml")), None);
        assert_eq!(
            reason(&guard, &secret.join("reopened/x")),
            Some(RefusalReason::Denied)
        );
        assert_eq!(
            reason(&guard, Path::new("/etc/passwd")),
            Some(RefusalReason::OutsideWritableRoots)
        );
        policy.deny_globs = vec![
            codex_sandbox_policy::DenyGlob::parse(&format!(
                "{}/**/*.env",
                root.join("conf").display()
            ))
            .unwrap(),
        ];
        let guard = WriteGuard::for_policy(&policy);
        assert_eq!(
            reason(&guard, &root.join("conf/a/.env")),
            Some(RefusalReason::DenyGlob {
                pattern: policy.deny_globs[0].as_str().to_string()
            })
        );
        assert_eq!(reason(&guard, &root.join("src/a.rs")), None);
        assert!(
            WriteGuard::unrestricted()
                .check(Path::new("/etc/passwd"))
                .is_ok()
        );
    }

    #[test]
    fn full_access_writes_metadata_but_not_denied_credentials() {
        let auth = Path::new("/home/u/.codex/auth.json");
        let mut policy = policy(
            Path::new("/repo"),
            &[(Path::new("/"), Access::Write), (auth, Access::Deny)],
        );
        policy.enforcement = Enforcement::FullAccess;
        let guard = WriteGuard::for_policy(&policy);
        assert_eq!(reason(&guard, Path::new("/repo/.git/config")), None);
        assert_eq!(reason(&guard, auth), Some(RefusalReason::Denied));
    }

    #[test]
    fn read_only_policy_uses_upstream_text() {
        let guard =
            WriteGuard::for_policy(&policy(Path::new("/ws"), &[(Path::new("/"), Access::Read)]));
        let refusal = guard.check(Path::new("/ws/a")).unwrap_err();
        assert_eq!(refusal.reason, RefusalReason::ReadOnlySandbox);
        assert_eq!(
            refusal.to_string(),
            "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
        );
    }

    #[test]
    fn policy_paths_are_resolved_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let real_root = base.join("real");
        std::fs::create_dir_all(&real_root).unwrap();
        std::os::unix::fs::symlink(&real_root, base.join("link")).unwrap();
        let link = base.join("link");
        let guard = WriteGuard::for_policy(&policy(
            &link,
            &[(Path::new("/"), Access::Read), (&link, Access::Write)],
        ));
        assert_eq!(reason(&guard, &real_root.join("a")), None);
        assert_eq!(
            reason(&guard, &real_root.join(".git/HEAD")),
            Some(RefusalReason::Protected)
        );
    }
}
