//! Compact construction of policies for the Seatbelt tests.

use std::path::{Path, PathBuf};

use codex_sandbox_policy::{
    Access, Enforcement, NetworkAccess, PathRule, ProtectedKind, ProtectedPath, SandboxPolicy,
    WritableRoot,
};

pub(crate) fn paths(paths: &[&str]) -> Vec<PathBuf> {
    paths.iter().map(PathBuf::from).collect()
}

pub(crate) struct PolicyBuilder {
    policy: SandboxPolicy,
}

impl PolicyBuilder {
    pub(crate) fn new(cwd: &str) -> Self {
        Self {
            policy: SandboxPolicy {
                profile: "test".to_string(),
                enforcement: Enforcement::Managed,
                cwd: PathBuf::from(cwd),
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
    pub(crate) fn from_policy(policy: SandboxPolicy) -> Self {
        Self { policy }
    }

    pub(crate) fn profile(mut self, name: &str) -> Self {
        self.policy.profile = name.to_string();
        self
    }

    pub(crate) fn rule(mut self, path: &str, access: Access) -> Self {
        self.policy.rules.push(PathRule {
            path: PathBuf::from(path),
            access,
        });
        self
    }

    pub(crate) fn read(self, path: &str) -> Self {
        self.rule(path, Access::Read)
    }

    pub(crate) fn deny(self, path: &str) -> Self {
        self.rule(path, Access::Deny)
    }

    /// A write rule and its writable-root entry.
    pub(crate) fn write(self, path: &str) -> Self {
        self.rule(path, Access::Write).writable_root_only(path)
    }

    /// A writable-root entry without a write rule (an inconsistent policy).
    pub(crate) fn writable_root_only(mut self, path: &str) -> Self {
        self.policy.writable_roots.push(WritableRoot {
            root: PathBuf::from(path),
            protected: Vec::new(),
        });
        self
    }

    /// Protect `path` inside the writable root `root` (added with [`Self::write`] before).
    pub(crate) fn protect(self, root: &str, path: &str) -> Self {
        self.protect_as(root, path, ProtectedKind::Metadata)
    }

    pub(crate) fn protect_as(mut self, root: &str, path: &str, kind: ProtectedKind) -> Self {
        if let Some(writable) = self
            .policy
            .writable_roots
            .iter_mut()
            .find(|writable| writable.root == Path::new(root))
        {
            writable.protected.push(ProtectedPath {
                path: PathBuf::from(path),
                kind,
            });
        }
        self
    }

    pub(crate) fn deny_glob(mut self, pattern: &str) -> Self {
        self.policy.deny_globs.push(pattern.to_string());
        self
    }

    pub(crate) fn platform_defaults(mut self) -> Self {
        self.policy.platform_defaults = true;
        self
    }

    pub(crate) fn network_enabled(mut self) -> Self {
        self.policy.network = NetworkAccess::Enabled;
        self
    }

    pub(crate) fn network_restricted(mut self) -> Self {
        self.policy.network = NetworkAccess::Restricted;
        self
    }

    pub(crate) fn unix_socket(mut self, path: &str) -> Self {
        self.policy.unix_sockets.push(PathBuf::from(path));
        self
    }

    pub(crate) fn full_access(mut self) -> Self {
        self.policy.enforcement = Enforcement::FullAccess;
        self.policy.network = NetworkAccess::Enabled;
        self
    }

    /// The policy with its rules sorted by path, as the policy builder produces them.
    pub(crate) fn build(mut self) -> SandboxPolicy {
        self.policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
        for writable in &mut self.policy.writable_roots {
            writable.protected.sort_by(|a, b| a.path.cmp(&b.path));
        }
        self.policy
    }
}
