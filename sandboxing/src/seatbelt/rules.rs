//! From "most specific rule wins" to Seatbelt allow and deny rules.
//!
//! A Seatbelt profile cannot say "the nearest rule decides"; it can only add allowances with
//! exclusions, and later rules override earlier ones. The policy is translated as:
//!
//! * **Read roots**: every readable rule whose nearest enclosing rule is not readable (a deny, or
//!   nothing). A readable rule inside a readable rule adds nothing and is dropped. Each root
//!   excludes the deny rules below it; a readable rule below such a deny is a root of its own.
//! * **Write roots**: every writable root. Each excludes the read and deny rules below it, and
//!   every protected path (of any writable root) that lies below it or above it.
//! * **Denied paths**: every deny rule is repeated as a trailing deny, so allowances that come
//!   from elsewhere (the platform defaults, the base profile) cannot reopen it. The trailing deny
//!   spares the read or write roots nested below it: a narrower rule still wins.
//!
//! All relations are decided on the policy's lexical paths; every path written into the
//! profile is canonical ([`super::canonical`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Access, Enforcement, PathRule, SandboxPolicy};

use super::SeatbeltPlanError;
use super::canonical::{Canonicalize, carve_out_spellings, resolve};

/// A subtree that is allowed, minus carve-outs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowedRoot {
    /// The rule path as written in the policy (for relations).
    pub lexical: PathBuf,
    /// The canonical path written into the profile.
    pub path: PathBuf,
    /// Canonical carve-outs, sorted and de-duplicated.
    pub excluded: Vec<PathBuf>,
}

/// A denied subtree, minus the read and write roots nested below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeniedPath {
    /// Canonical spelling of the denied path.
    pub path: PathBuf,
    /// Indices into [`AccessPlan::read_roots`] of roots nested below the denied path.
    pub reopened_for_read: Vec<usize>,
    /// Indices into [`AccessPlan::write_roots`] of roots nested below the denied path.
    pub reopened_for_write: Vec<usize>,
}

/// How reads are granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadAccess {
    /// Unrestricted (`/` readable, nothing denied): `(allow file-read*)`.
    Everything,
    /// Only these roots.
    Roots,
}

/// The filesystem part of a managed policy, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessPlan {
    pub read: ReadAccess,
    /// Empty when `read` is [`ReadAccess::Everything`].
    pub read_roots: Vec<AllowedRoot>,
    pub write_roots: Vec<AllowedRoot>,
    pub denied: Vec<DeniedPath>,
}

/// Where the generated profile lets the command create, remove or rename directory entries
/// (`file-write*`), decided on canonical paths exactly as the profile's rules decide it.
pub(crate) enum WritableArea<'a> {
    /// Full access: everything apart from the denied paths.
    Everywhere { denied: &'a [DeniedPath] },
    /// The write roots minus their exclusions, plus `extra` subtrees (the per-user cache
    /// directory when the network is enabled), minus the denied paths that no nested write root
    /// reopens.
    Roots {
        roots: &'a [AllowedRoot],
        extra: Vec<PathBuf>,
        denied: &'a [DeniedPath],
    },
}

impl WritableArea<'_> {
    /// True when `path` (canonical) may be written, created, removed or renamed.
    pub(crate) fn contains(&self, path: &Path) -> bool {
        match self {
            WritableArea::Everywhere { denied } => {
                !denied.iter().any(|denied| path.starts_with(&denied.path))
            }
            WritableArea::Roots {
                roots,
                extra,
                denied,
            } => {
                let allowed = roots.iter().any(|root| {
                    path.starts_with(&root.path)
                        && !root
                            .excluded
                            .iter()
                            .any(|excluded| path.starts_with(excluded))
                }) || extra.iter().any(|subtree| path.starts_with(subtree));
                allowed
                    && !denied.iter().any(|denied| {
                        path.starts_with(&denied.path)
                            && !denied.reopened_for_write.iter().any(|&index| {
                                roots
                                    .get(index)
                                    .is_some_and(|root| path.starts_with(&root.path))
                            })
                    })
            }
        }
    }

    /// The subtrees writes are allowed in (before exclusions): the write roots and `extra`.
    pub(crate) fn subtrees(&self) -> Vec<&Path> {
        match self {
            WritableArea::Everywhere { .. } => vec![Path::new("/")],
            WritableArea::Roots { roots, extra, .. } => roots
                .iter()
                .map(|root| root.path.as_path())
                .chain(extra.iter().map(PathBuf::as_path))
                .collect(),
        }
    }
}

/// Check that the policy is something Seatbelt can enforce faithfully: absolute paths, and one
/// writable-root entry (with its protected paths) for each write rule and vice versa.
pub(crate) fn validate(policy: &SandboxPolicy) -> Result<(), SeatbeltPlanError> {
    let relative = policy
        .rules
        .iter()
        .map(|rule| rule.path.as_path())
        .chain(policy.writable_roots.iter().map(|root| root.root.as_path()))
        .chain(policy.writable_roots.iter().flat_map(|root| {
            root.protected
                .iter()
                .map(|protected| protected.path.as_path())
        }))
        .chain(policy.unix_sockets.iter().map(PathBuf::as_path))
        .find(|path| !path.is_absolute());
    if let Some(path) = relative {
        return Err(SeatbeltPlanError::RelativePath {
            path: path.to_path_buf(),
        });
    }
    if let Some(glob) = policy.deny_globs.iter().find(|glob| !glob.starts_with('/')) {
        return Err(SeatbeltPlanError::RelativeDenyGlob {
            pattern: glob.clone(),
        });
    }
    if policy.enforcement == Enforcement::FullAccess {
        return Ok(());
    }
    for rule in write_rules(policy) {
        if !policy
            .writable_roots
            .iter()
            .any(|root| root.root == rule.path)
        {
            return Err(SeatbeltPlanError::WriteRuleWithoutWritableRoot {
                path: rule.path.clone(),
            });
        }
    }
    for root in &policy.writable_roots {
        if !write_rules(policy).any(|rule| rule.path == root.root) {
            return Err(SeatbeltPlanError::WritableRootWithoutWriteRule {
                path: root.root.clone(),
            });
        }
    }
    Ok(())
}

/// Build the access plan of a managed (not full-access) policy.
pub(crate) fn access_plan(policy: &SandboxPolicy, canonicalizer: &dyn Canonicalize) -> AccessPlan {
    let deny_rules: Vec<&PathRule> = policy
        .rules
        .iter()
        .filter(|rule| rule.access == Access::Deny)
        .collect();

    let read_rules: Vec<&PathRule> = policy
        .rules
        .iter()
        .filter(|rule| rule.access.can_read() && !nearest_enclosing_rule_reads(policy, &rule.path))
        .collect();
    let read =
        if deny_rules.is_empty() && read_rules.len() == 1 && read_rules[0].path == Path::new("/") {
            ReadAccess::Everything
        } else {
            ReadAccess::Roots
        };
    let read_roots: Vec<AllowedRoot> = match read {
        ReadAccess::Everything => Vec::new(),
        ReadAccess::Roots => read_rules
            .iter()
            .map(|rule| AllowedRoot {
                lexical: rule.path.clone(),
                path: resolve(canonicalizer, &rule.path),
                excluded: spellings_strictly_below(
                    canonicalizer,
                    &rule.path,
                    deny_rules.iter().map(|deny| deny.path.as_path()),
                ),
            })
            .collect(),
    };

    let protected_spellings: Vec<PathBuf> = policy
        .writable_roots
        .iter()
        .flat_map(|root| root.protected.iter())
        .flat_map(|protected| carve_out_spellings(canonicalizer, &protected.path))
        .collect();
    let write_roots: Vec<AllowedRoot> = policy
        .writable_roots
        .iter()
        .map(|writable| {
            let path = resolve(canonicalizer, &writable.root);
            let not_writable = policy
                .rules
                .iter()
                .filter(|rule| rule.access != Access::Write)
                .map(|rule| rule.path.as_path());
            let mut excluded: BTreeSet<PathBuf> =
                spellings_strictly_below(canonicalizer, &writable.root, not_writable)
                    .into_iter()
                    .collect();
            // Protected beats every write rule: exclude it when it is inside this root, and when
            // it encloses the whole root (then nothing of the root stays writable).
            excluded.extend(
                protected_spellings
                    .iter()
                    .filter(|spelling| spelling.starts_with(&path) || path.starts_with(spelling))
                    .cloned(),
            );
            AllowedRoot {
                lexical: writable.root.clone(),
                path,
                excluded: excluded.into_iter().collect(),
            }
        })
        .collect();

    let denied = deny_rules
        .iter()
        .flat_map(|deny| {
            let reopened_for_read = indices_strictly_below(&read_roots, &deny.path);
            let reopened_for_write = indices_strictly_below(&write_roots, &deny.path);
            carve_out_spellings(canonicalizer, &deny.path)
                .into_iter()
                .map(move |path| DeniedPath {
                    path,
                    reopened_for_read: reopened_for_read.clone(),
                    reopened_for_write: reopened_for_write.clone(),
                })
        })
        .collect();

    AccessPlan {
        read,
        read_roots,
        write_roots,
        denied,
    }
}

/// Canonical spellings of every deny rule of a full-access policy (no nested reopening: with full
/// access only the deny rules restrict anything).
pub(crate) fn full_access_denied(
    policy: &SandboxPolicy,
    canonicalizer: &dyn Canonicalize,
) -> Vec<DeniedPath> {
    policy
        .denied_paths()
        .flat_map(|path| carve_out_spellings(canonicalizer, path))
        .map(|path| DeniedPath {
            path,
            reopened_for_read: Vec::new(),
            reopened_for_write: Vec::new(),
        })
        .collect()
}

fn write_rules(policy: &SandboxPolicy) -> impl Iterator<Item = &PathRule> {
    policy
        .rules
        .iter()
        .filter(|rule| rule.access == Access::Write)
}

/// True when the most specific rule strictly above `path` grants reads (then a read rule on
/// `path` adds nothing).
fn nearest_enclosing_rule_reads(policy: &SandboxPolicy, path: &Path) -> bool {
    policy
        .rules
        .iter()
        .filter(|rule| rule.path != path && path.starts_with(&rule.path))
        .max_by_key(|rule| rule.path.components().count())
        .is_some_and(|rule| rule.access.can_read())
}

fn spellings_strictly_below<'a>(
    canonicalizer: &dyn Canonicalize,
    root: &Path,
    candidates: impl Iterator<Item = &'a Path>,
) -> Vec<PathBuf> {
    let spellings: BTreeSet<PathBuf> = candidates
        .filter(|candidate| *candidate != root && candidate.starts_with(root))
        .flat_map(|candidate| carve_out_spellings(canonicalizer, candidate))
        .collect();
    spellings.into_iter().collect()
}

fn indices_strictly_below(roots: &[AllowedRoot], denied: &Path) -> Vec<usize> {
    roots
        .iter()
        .enumerate()
        .filter(|(_, root)| root.lexical != denied && root.lexical.starts_with(denied))
        .map(|(index, _)| index)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::canonical::fake::FakeFileSystem;
    use super::super::test_support::{PolicyBuilder, paths};
    use super::*;

    #[test]
    fn plain_full_read_is_everything() {
        let policy = PolicyBuilder::new("/repo").read("/").build();
        let plan = access_plan(&policy, &FakeFileSystem::default());
        assert_eq!(plan.read, ReadAccess::Everything);
        assert!(plan.read_roots.is_empty());
    }

    #[test]
    fn nested_read_rules_are_dropped_and_reopened_ones_kept() {
        let policy = PolicyBuilder::new("/repo")
            .read("/")
            .write("/repo")
            .deny("/repo/a")
            .write("/repo/a/b")
            .read("/repo/a/b/c")
            .build();
        let plan = access_plan(&policy, &FakeFileSystem::default());
        assert_eq!(plan.read, ReadAccess::Roots);
        let roots: Vec<_> = plan
            .read_roots
            .iter()
            .map(|root| root.path.clone())
            .collect();
        assert_eq!(roots, paths(&["/", "/repo/a/b"]));
        assert_eq!(plan.read_roots[0].excluded, paths(&["/repo/a"]));
        assert!(plan.read_roots[1].excluded.is_empty());
        assert_eq!(plan.denied[0].reopened_for_read, vec![1]);
        assert_eq!(plan.denied[0].reopened_for_write, vec![1]);
    }

    #[test]
    fn write_root_excludes_read_rules_denies_and_protected_paths() {
        let policy = PolicyBuilder::new("/repo")
            .read("/")
            .write("/repo")
            .read("/repo/docs")
            .deny("/repo/secret")
            .protect("/repo", "/repo/.git")
            .protect("/repo", "/repo/.codex")
            .build();
        let plan = access_plan(&policy, &FakeFileSystem::default());
        assert_eq!(
            plan.write_roots[0].excluded,
            paths(&["/repo/.codex", "/repo/.git", "/repo/docs", "/repo/secret"])
        );
    }

    #[test]
    fn protected_symlink_target_is_excluded_from_every_root_that_holds_it() {
        let file_system = FakeFileSystem::default()
            .link("/repo/.codex", "/scratch/decoy")
            .exists("/scratch/decoy");
        let policy = PolicyBuilder::new("/repo")
            .read("/")
            .write("/repo")
            .write("/scratch")
            .protect("/repo", "/repo/.codex")
            .build();
        let plan = access_plan(&policy, &file_system);
        assert_eq!(plan.write_roots[0].excluded, paths(&["/repo/.codex"]));
        assert_eq!(plan.write_roots[1].excluded, paths(&["/scratch/decoy"]));
    }

    #[test]
    fn missing_codex_under_a_symlinked_root_is_spelled_canonically() {
        let file_system = FakeFileSystem::macos().exists("/private/var/folders/x/repo");
        let policy = PolicyBuilder::new("/var/folders/x/repo")
            .read("/")
            .write("/var/folders/x/repo")
            .protect("/var/folders/x/repo", "/var/folders/x/repo/.codex")
            .build();
        let plan = access_plan(&policy, &file_system);
        assert_eq!(
            plan.write_roots[0].path,
            PathBuf::from("/private/var/folders/x/repo")
        );
        assert_eq!(
            plan.write_roots[0].excluded,
            paths(&["/private/var/folders/x/repo/.codex"])
        );
    }

    #[test]
    fn write_root_inside_a_protected_path_excludes_itself() {
        let policy = PolicyBuilder::new("/repo")
            .read("/")
            .write("/repo")
            .write("/repo/.git/hooks")
            .protect("/repo", "/repo/.git")
            .build();
        let plan = access_plan(&policy, &FakeFileSystem::default());
        assert_eq!(plan.write_roots[1].excluded, paths(&["/repo/.git"]));
    }

    #[test]
    fn mismatched_writable_roots_are_refused() {
        let mut policy = PolicyBuilder::new("/repo").read("/").write("/repo").build();
        policy.writable_roots.clear();
        assert!(matches!(
            validate(&policy),
            Err(SeatbeltPlanError::WriteRuleWithoutWritableRoot { .. })
        ));
        let policy = PolicyBuilder::new("/repo")
            .read("/")
            .writable_root_only("/elsewhere")
            .build();
        assert!(matches!(
            validate(&policy),
            Err(SeatbeltPlanError::WritableRootWithoutWriteRule { .. })
        ));
        let policy = PolicyBuilder::new("/repo").read("relative").build();
        assert!(matches!(
            validate(&policy),
            Err(SeatbeltPlanError::RelativePath { .. })
        ));
        let policy = PolicyBuilder::new("/repo")
            .read("/")
            .deny_glob("*.env")
            .build();
        assert!(matches!(
            validate(&policy),
            Err(SeatbeltPlanError::RelativeDenyGlob { .. })
        ));
    }
}
