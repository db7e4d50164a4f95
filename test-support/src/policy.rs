//! [`PolicyBuilder`]: compact construction of [`SandboxPolicy`] values for tests.

use std::path::{Path, PathBuf};

use codex_sandbox_policy::{
    Access, DenyGlob, Enforcement, NetworkAccess, PathRule, ProtectedKind, ProtectedPath,
    SandboxPolicy, WritableRoot,
};

/// A managed policy named `test`, network restricted, nothing readable or writable until rules
/// are added. [`PolicyBuilder::build`] sorts the rules (and each root's protected paths) by
/// path, as the configuration compiler produces them.
pub struct PolicyBuilder {
    policy: SandboxPolicy,
}

impl PolicyBuilder {
    pub fn new(cwd: impl AsRef<Path>) -> PolicyBuilder {
        PolicyBuilder {
            policy: SandboxPolicy {
                profile: "test".to_string(),
                enforcement: Enforcement::Managed,
                cwd: cwd.as_ref().to_path_buf(),
                rules: Vec::new(),
                platform_defaults: false,
                deny_globs: Vec::new(),
                glob_scan_max_depth: None,
                writable_roots: Vec::new(),
                network: NetworkAccess::Restricted,
                unix_sockets: Vec::new(),
            },
        }
    }

    /// Continue building from an existing policy.
    pub fn from_policy(policy: SandboxPolicy) -> PolicyBuilder {
        PolicyBuilder { policy }
    }

    pub fn profile(mut self, name: &str) -> PolicyBuilder {
        self.policy.profile = name.to_string();
        self
    }

    pub fn rule(mut self, path: impl AsRef<Path>, access: Access) -> PolicyBuilder {
        self.policy.rules.push(PathRule {
            path: path.as_ref().to_path_buf(),
            access,
        });
        self
    }

    pub fn read(self, path: impl AsRef<Path>) -> PolicyBuilder {
        self.rule(path, Access::Read)
    }

    pub fn deny(self, path: impl AsRef<Path>) -> PolicyBuilder {
        self.rule(path, Access::Deny)
    }

    /// A write rule and its writable-root entry.
    pub fn write(self, path: impl AsRef<Path>) -> PolicyBuilder {
        let path = path.as_ref();
        self.rule(path, Access::Write).writable_root_only(path)
    }

    /// A writable-root entry without a write rule (an inconsistent policy).
    pub fn writable_root_only(mut self, path: impl AsRef<Path>) -> PolicyBuilder {
        self.policy.writable_roots.push(WritableRoot {
            root: path.as_ref().to_path_buf(),
            protected: Vec::new(),
        });
        self
    }

    /// Protect `path` (metadata) inside the writable root `root` (added before).
    pub fn protect(self, root: impl AsRef<Path>, path: impl AsRef<Path>) -> PolicyBuilder {
        self.protect_as(root, path, ProtectedKind::Metadata)
    }

    /// Protect `path` as `kind` inside the writable root `root`. Panics when `root` is not a
    /// writable root of the policy (a test mistake).
    pub fn protect_as(
        mut self,
        root: impl AsRef<Path>,
        path: impl AsRef<Path>,
        kind: ProtectedKind,
    ) -> PolicyBuilder {
        let root = root.as_ref();
        let Some(writable) = self
            .policy
            .writable_roots
            .iter_mut()
            .find(|writable| writable.root == root)
        else {
            panic!("`{}` is not a writable root of the policy", root.display());
        };
        writable.protected.push(ProtectedPath {
            path: path.as_ref().to_path_buf(),
            kind,
        });
        self
    }

    /// Add a deny glob; panics when the pattern does not parse (a test mistake).
    pub fn deny_glob(mut self, pattern: &str) -> PolicyBuilder {
        let glob = DenyGlob::parse(pattern)
            .unwrap_or_else(|error| panic!("test deny glob `{pattern}`: {error}"));
        self.policy.deny_globs.push(glob);
        self
    }

    pub fn platform_defaults(mut self) -> PolicyBuilder {
        self.policy.platform_defaults = true;
        self
    }

    pub fn network_enabled(mut self) -> PolicyBuilder {
        self.policy.network = NetworkAccess::Enabled;
        self
    }

    pub fn network_restricted(mut self) -> PolicyBuilder {
        self.policy.network = NetworkAccess::Restricted;
        self
    }

    pub fn unix_socket(mut self, path: impl AsRef<Path>) -> PolicyBuilder {
        self.policy.unix_sockets.push(path.as_ref().to_path_buf());
        self
    }

    /// `danger-full-access`: enforcement off, network enabled.
    pub fn full_access(mut self) -> PolicyBuilder {
        self.policy.enforcement = Enforcement::FullAccess;
        self.policy.network = NetworkAccess::Enabled;
        self
    }

    /// The policy with its rules sorted by path.
    pub fn build(mut self) -> SandboxPolicy {
        self.policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
        for writable in &mut self.policy.writable_roots {
            writable.protected.sort_by(|a, b| a.path.cmp(&b.path));
        }
        self.policy
    }
}

/// `paths` as owned paths.
pub fn paths(paths: &[&str]) -> Vec<PathBuf> {
    paths.iter().map(PathBuf::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_sorted_workspace_policy() {
        let policy = PolicyBuilder::new("/w")
            .profile(":workspace")
            .write("/w")
            .read("/")
            .deny("/w/secret")
            .protect("/w", "/w/.git")
            .protect_as("/w", "/w/.codex", ProtectedKind::Metadata)
            .deny_glob("/w/**/*.env")
            .network_enabled()
            .unix_socket("/run/x.sock")
            .build();
        assert_eq!(policy.profile, ":workspace");
        assert_eq!(policy.cwd, PathBuf::from("/w"));
        assert_eq!(
            policy
                .rules
                .iter()
                .map(|rule| (rule.path.clone(), rule.access))
                .collect::<Vec<_>>(),
            vec![
                (PathBuf::from("/"), Access::Read),
                (PathBuf::from("/w"), Access::Write),
                (PathBuf::from("/w/secret"), Access::Deny),
            ]
        );
        assert_eq!(policy.writable_roots.len(), 1);
        assert_eq!(
            policy.writable_roots[0]
                .protected
                .iter()
                .map(|protected| protected.path.clone())
                .collect::<Vec<_>>(),
            paths(&["/w/.codex", "/w/.git"])
        );
        assert_eq!(policy.deny_globs[0].as_str(), "/w/**/*.env");
        assert_eq!(policy.network, NetworkAccess::Enabled);
        assert_eq!(policy.unix_sockets, paths(&["/run/x.sock"]));
        assert_eq!(policy.access_for(Path::new("/w/.git/config")), Access::Read);
        assert_eq!(policy.access_for(Path::new("/w/src")), Access::Write);
        let full = PolicyBuilder::from_policy(policy).full_access().build();
        assert_eq!(full.enforcement, Enforcement::FullAccess);
    }

    #[test]
    #[should_panic(expected = "is not a writable root")]
    fn protecting_outside_a_writable_root_is_a_test_mistake() {
        let _ = PolicyBuilder::new("/w").protect("/w", "/w/.git");
    }
}
