//! The resolved sandbox policy: plain data with absolute paths.
//!
//! `codex-config` compiles a permission profile (or a legacy `sandbox_mode`) into one
//! [`SandboxPolicy`]; every backend (bubblewrap, Landlock, Seatbelt, …) consumes only this value.
//! It serialises to JSON so the standalone `codex-linux-sandbox` helper can take it as an argument.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::glob::DenyGlob;

/// What a path rule grants. On a tie between equally specific rules, `Deny` beats `Write` beats
/// `Read` (see [`Access::strongest`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    Read,
    Write,
    Deny,
}

impl Access {
    /// The winner between two rules on the same path: deny > write > read.
    pub fn strongest(self, other: Access) -> Access {
        fn rank(access: Access) -> u8 {
            match access {
                Access::Read => 0,
                Access::Write => 1,
                Access::Deny => 2,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    pub fn can_read(self) -> bool {
        matches!(self, Access::Read | Access::Write)
    }

    pub fn can_write(self) -> bool {
        matches!(self, Access::Write)
    }
}

/// How a path is enforced, in error messages of every backend (`cannot enforce sandbox <role>
/// path …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRole {
    ReadOnly,
    DenyRead,
    Writable,
}

impl std::fmt::Display for PathRole {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            PathRole::ReadOnly => "read-only",
            PathRole::DenyRead => "deny-read",
            PathRole::Writable => "writable",
        })
    }
}

/// One filesystem rule on an absolute path (and everything below it, unless a more specific rule
/// says otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathRule {
    pub path: PathBuf,
    pub access: Access,
}

/// Whether the sandboxed command may use the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkAccess {
    #[default]
    Restricted,
    Enabled,
}

/// Whether a sandbox is applied at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Enforcement {
    /// Build and enforce the sandbox described by the policy.
    #[default]
    Managed,
    /// The user chose `:danger-full-access`: no filesystem or network restrictions. Backends
    /// still mask the credential files listed as `Deny` rules.
    FullAccess,
}

/// Why a path inside a writable root is kept read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProtectedKind {
    /// `.git`, `.codex` or `.agents` directly inside a writable root (may be missing: then it must
    /// be masked so that it cannot be created).
    Metadata,
    /// The target of a `.git` pointer file (`gitdir: …`).
    GitDirTarget,
    /// `$CODEX_HOME` (configuration, credentials) when it lies inside a writable root, and
    /// where the links directly inside it lead (a dotfiles `config.toml`): the command must not
    /// rewrite the configuration the next session loads.
    CodexHome,
    /// The `.git` of a submodule or linked worktree inside a writable root (existing or not):
    /// the host's `git` enters it from the root.
    NestedRepository,
}

/// A read-only carve-out inside a writable root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedPath {
    pub path: PathBuf,
    pub kind: ProtectedKind,
}

/// A root the command may write below, with its read-only carve-outs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritableRoot {
    pub root: PathBuf,
    /// Sorted, de-duplicated, all below `root`.
    pub protected: Vec<ProtectedPath>,
}

/// The one value every sandbox backend consumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxPolicy {
    /// The profile the policy came from: a built-in (`:read-only`, `:workspace`,
    /// `:danger-full-access`), a user profile name, or a legacy mode (`read-only`,
    /// `workspace-write`, `danger-full-access`).
    pub profile: String,
    pub enforcement: Enforcement,
    /// The working directory the policy was resolved against (absolute).
    pub cwd: PathBuf,
    /// Concrete path rules with absolute, lexically normalised paths; one rule per path (ties
    /// already resolved with [`Access::strongest`]), sorted by path.
    pub rules: Vec<PathRule>,
    /// `:minimal` was granted: the platform's runtime directories are readable.
    #[serde(default)]
    pub platform_defaults: bool,
    /// Absolute git-style glob patterns whose matches are unreadable (deny only), parsed once.
    #[serde(default)]
    pub deny_globs: Vec<DenyGlob>,
    /// Depth limit for expanding `deny_globs` on backends that need concrete paths.
    #[serde(default)]
    pub glob_scan_max_depth: Option<u32>,
    /// Every writable rule path with its protected metadata carve-outs.
    #[serde(default)]
    pub writable_roots: Vec<WritableRoot>,
    pub network: NetworkAccess,
    /// Unix socket paths the command may connect to / bind even when the network is restricted.
    #[serde(default)]
    pub unix_sockets: Vec<PathBuf>,
}

impl SandboxPolicy {
    /// The access that applies to `path` (absolute): the most specific rule wins, protected
    /// carve-outs of writable roots are read-only, no rule at all means `Deny`.
    pub fn access_for(&self, path: &Path) -> Access {
        let path = normalize(path);
        let mut best: Option<(usize, Access)> = None;
        for rule in &self.rules {
            if path.starts_with(&rule.path) {
                let depth = rule.path.components().count();
                best = match best {
                    Some((d, a)) if d > depth => Some((d, a)),
                    Some((d, a)) if d == depth => Some((d, a.strongest(rule.access))),
                    _ => Some((depth, rule.access)),
                };
            }
        }
        let access = best.map_or(Access::Deny, |(_, access)| access);
        if access == Access::Write && self.is_protected(&path) {
            Access::Read
        } else {
            access
        }
    }

    /// Make each of `paths` (absolute) unreadable whatever any other rule says: administrator
    /// denials (`requirements.toml` `deny_read`) that a more specific allow must not reopen.
    ///
    /// Each path gets a `Deny` rule, and everything at or below it is removed: rules (of any
    /// access), writable roots and unix sockets. Afterwards no rule is more specific than the
    /// denial, so [`SandboxPolicy::access_for`] and every backend that applies the most specific
    /// rule treat it as final. Protected carve-outs of writable roots that contain a denied path
    /// are kept (protection only ever turns `Write` into `Read`, never `Deny` into anything).
    ///
    /// The denial is final only against what the policy holds when this is called: code that
    /// adds rules, writable roots or unix sockets afterwards must not add them below a denied
    /// path (call this again after adding them).
    pub fn force_deny(&mut self, paths: &[PathBuf]) {
        let mut denied: Vec<PathBuf> = paths.iter().map(|path| normalize(path)).collect();
        denied.sort();
        denied.dedup();
        // Keep only the outermost denials: one below another adds nothing.
        let outermost: Vec<PathBuf> = denied
            .iter()
            .filter(|path| {
                !denied
                    .iter()
                    .any(|other| other != *path && path.starts_with(other))
            })
            .cloned()
            .collect();
        if outermost.is_empty() {
            return;
        }
        let inside = |path: &Path| outermost.iter().any(|deny| path.starts_with(deny));
        self.rules.retain(|rule| !inside(&rule.path));
        self.rules.extend(outermost.iter().map(|path| PathRule {
            path: path.clone(),
            access: Access::Deny,
        }));
        self.rules.sort_by(|a, b| a.path.cmp(&b.path));
        self.writable_roots.retain(|root| !inside(&root.root));
        self.unix_sockets.retain(|socket| !inside(socket));
    }

    /// True when `path` is (or is below) a protected carve-out of a writable root.
    pub fn is_protected(&self, path: &Path) -> bool {
        self.writable_roots
            .iter()
            .flat_map(|root| root.protected.iter())
            .any(|protected| path.starts_with(&protected.path))
    }

    /// True when the whole filesystem is readable apart from explicit deny rules.
    pub fn has_full_read(&self) -> bool {
        self.enforcement == Enforcement::FullAccess || self.access_for(Path::new("/")).can_read()
    }

    /// True when the whole filesystem is writable apart from explicit rules.
    pub fn has_full_write(&self) -> bool {
        self.enforcement == Enforcement::FullAccess || self.access_for(Path::new("/")).can_write()
    }

    /// Paths with a `Deny` rule.
    pub fn denied_paths(&self) -> impl Iterator<Item = &Path> {
        self.rules
            .iter()
            .filter(|rule| rule.access == Access::Deny)
            .map(|rule| rule.path.as_path())
    }

    /// Paths with a `Read` or `Write` rule.
    pub fn readable_paths(&self) -> impl Iterator<Item = &Path> {
        self.rules
            .iter()
            .filter(|rule| rule.access.can_read())
            .map(|rule| rule.path.as_path())
    }

    /// The deny glob that makes `path` unreadable, if any (`path` or an ancestor matches).
    /// `path` is matched as given and, when it lies below the real location of a glob's base
    /// (the base may be spelled through a symlink, `/tmp` → `/private/tmp`), re-spelled through
    /// the base as written: a caller holding a canonical path gets the same answer.
    pub fn denying_glob(&self, path: &Path) -> Option<&DenyGlob> {
        let path = normalize(path);
        self.deny_globs.iter().find(|glob| {
            if glob.denies(&path) {
                return true;
            }
            let Ok(real_base) = std::fs::canonicalize(glob.base()) else {
                return false;
            };
            path.strip_prefix(&real_base)
                .is_ok_and(|rest| glob.denies(&glob.base().join(rest)))
        })
    }

    pub fn network_restricted(&self) -> bool {
        self.network == NetworkAccess::Restricted && self.enforcement == Enforcement::Managed
    }

    /// Serialise for the `codex-linux-sandbox` helper.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Lexically normalise an absolute path: drop `.`, resolve `..` against the parent (never above
/// `/`). Symlinks are not resolved.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(prefix) => out.push(prefix.as_os_str()),
            Component::RootDir => out.push("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: &[(&str, Access)]) -> SandboxPolicy {
        SandboxPolicy {
            profile: "test".to_string(),
            enforcement: Enforcement::Managed,
            cwd: PathBuf::from("/repo"),
            rules: rules
                .iter()
                .map(|(path, access)| PathRule {
                    path: PathBuf::from(path),
                    access: *access,
                })
                .collect(),
            platform_defaults: false,
            deny_globs: Vec::new(),
            glob_scan_max_depth: None,
            writable_roots: vec![WritableRoot {
                root: PathBuf::from("/repo"),
                protected: vec![ProtectedPath {
                    path: PathBuf::from("/repo/.git"),
                    kind: ProtectedKind::Metadata,
                }],
            }],
            network: NetworkAccess::Restricted,
            unix_sockets: Vec::new(),
        }
    }

    #[test]
    fn most_specific_rule_wins_and_narrower_write_reopens_deny() {
        let policy = policy(&[
            ("/", Access::Read),
            ("/repo", Access::Write),
            ("/repo/a", Access::Deny),
            ("/repo/a/b", Access::Write),
        ]);
        assert_eq!(policy.access_for(Path::new("/etc/passwd")), Access::Read);
        assert_eq!(policy.access_for(Path::new("/repo/x")), Access::Write);
        assert_eq!(policy.access_for(Path::new("/repo/a/x")), Access::Deny);
        assert_eq!(policy.access_for(Path::new("/repo/a/b/c")), Access::Write);
        assert_eq!(policy.access_for(Path::new("/repo/a/../x")), Access::Write);
    }

    #[test]
    fn protected_metadata_is_read_only_inside_writable_root() {
        let policy = policy(&[("/", Access::Read), ("/repo", Access::Write)]);
        assert_eq!(
            policy.access_for(Path::new("/repo/.git/config")),
            Access::Read
        );
        assert_eq!(
            policy.access_for(Path::new("/repo/.gitignore")),
            Access::Write
        );
    }

    #[test]
    fn no_rule_means_deny_and_ties_prefer_deny() {
        let policy = policy(&[("/repo", Access::Read), ("/repo", Access::Deny)]);
        assert_eq!(policy.access_for(Path::new("/etc")), Access::Deny);
        assert_eq!(policy.access_for(Path::new("/repo/x")), Access::Deny);
        assert!(!policy.has_full_read());
    }

    /// Regression: an administrator denial must not be reopened by a more
    /// specific rule, a writable root inside it, or a unix socket inside it.
    #[test]
    fn force_deny_is_final_over_more_specific_rules() {
        let mut policy = policy(&[
            ("/", Access::Read),
            ("/secret/inner", Access::Read),
            ("/secret/work", Access::Write),
            ("/repo", Access::Write),
        ]);
        policy.writable_roots.push(WritableRoot {
            root: PathBuf::from("/secret/work"),
            protected: Vec::new(),
        });
        policy.unix_sockets = vec![PathBuf::from("/secret/agent.sock"), PathBuf::from("/run/a")];
        policy.force_deny(&[
            PathBuf::from("/secret/./inner/.."),
            PathBuf::from("/secret/inner"),
        ]);
        assert_eq!(
            policy.access_for(Path::new("/secret/inner/k")),
            Access::Deny
        );
        assert_eq!(policy.access_for(Path::new("/secret/work/k")), Access::Deny);
        assert_eq!(policy.access_for(Path::new("/secret")), Access::Deny);
        assert_eq!(policy.access_for(Path::new("/repo/x")), Access::Write);
        assert_eq!(
            policy
                .rules
                .iter()
                .map(|rule| (rule.path.to_string_lossy().into_owned(), rule.access))
                .collect::<Vec<_>>(),
            vec![
                ("/".to_string(), Access::Read),
                ("/repo".to_string(), Access::Write),
                ("/secret".to_string(), Access::Deny),
            ]
        );
        assert_eq!(
            policy
                .writable_roots
                .iter()
                .map(|root| root.root.clone())
                .collect::<Vec<_>>(),
            vec![PathBuf::from("/repo")]
        );
        assert_eq!(policy.unix_sockets, vec![PathBuf::from("/run/a")]);
        // A denial of the writable root itself replaces its write rule.
        policy.force_deny(&[PathBuf::from("/repo")]);
        assert_eq!(policy.access_for(Path::new("/repo/x")), Access::Deny);
        assert!(policy.writable_roots.is_empty());
    }

    #[test]
    fn round_trips_through_json() {
        let policy = policy(&[("/", Access::Read)]);
        let back = SandboxPolicy::from_json(&policy.to_json()).unwrap();
        assert_eq!(back, policy);
    }
}
