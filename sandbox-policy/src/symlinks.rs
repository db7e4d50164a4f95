//! The one "crosses a symlink the sandboxed command could replace" rule, shared by every backend.
//!
//! Backends enforce a policy path through its resolved form (bubblewrap binds the real path,
//! Seatbelt writes the canonical path into the profile, Landlock opens it). When a symbolic link on
//! the way to that path lies where the command may write, the command can re-point it
//! (`rm -rf /tmp/cache; ln -s ~ /tmp/cache`): the rule then protects a snapshot, and the next run
//! grants or protects a different directory. Such a path must be refused.
//!
//! [`replaceable_symlink`] resolves a path component by component, the way the kernel does, and
//! follows link chains: `/opt/x -> /tmp/y/z` with `/tmp/y` a symlink in a writable `/tmp` crosses
//! a replaceable link even though `/opt` is read-only. Relative targets resolve against the link's
//! directory, `..` goes to the physical parent of what has been resolved so far, and at most
//! [`MAX_SYMLINKS`] links are followed (a loop is refused rather than guessed about).
//!
//! What "could replace" means is the backend's own decision (its writable area), given as a
//! predicate over [`LinkEntry`]; the file system is reached through [`ReadLink`] so that tests can
//! describe any layout.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The kernel's own limit on symbolic links followed in one resolution (`MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 32;

/// Reads symbolic links without following the last component.
pub trait ReadLink {
    /// The target of `path` when `path` itself is a symbolic link; `Ok(None)` when it is anything
    /// else or does not exist (a missing component, or a non-directory on the way).
    fn read_link(&self, path: &Path) -> io::Result<Option<PathBuf>>;
}

/// The host file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostFileSystem;

impl ReadLink for HostFileSystem {
    fn read_link(&self, path: &Path) -> io::Result<Option<PathBuf>> {
        match std::fs::symlink_metadata(path) {
            Ok(metadata) if metadata.file_type().is_symlink() => std::fs::read_link(path).map(Some),
            Ok(_) => Ok(None),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}

/// A symbolic link met on the way, as the predicate sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkEntry<'a> {
    /// The link's directory entry, its directory fully resolved (`/private/tmp/cache` for
    /// `/tmp/cache`).
    pub resolved: &'a Path,
    /// The same entry as spelled in the path being walked (the policy path itself, or the target
    /// of the link that led here), `..` applied lexically.
    pub spelled: &'a Path,
}

/// The first symlink on the way that the predicate called replaceable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceableSymlink {
    /// See [`LinkEntry::resolved`].
    pub resolved: PathBuf,
    /// See [`LinkEntry::spelled`].
    pub spelled: PathBuf,
}

/// Walking the symlinks of a path failed before a decision could be made.
#[derive(Debug)]
pub enum ResolveSymlinksError {
    /// More than [`MAX_SYMLINKS`] links (a loop, or a chain the kernel would refuse too).
    TooManyLinks {
        /// The path being checked.
        path: PathBuf,
    },
    /// A component could not be inspected (other than "does not exist").
    Inspect {
        /// The component that could not be read.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl fmt::Display for ResolveSymlinksError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveSymlinksError::TooManyLinks { path } => write!(
                formatter,
                "too many levels of symbolic links while resolving `{}`",
                path.display()
            ),
            ResolveSymlinksError::Inspect { path, .. } => {
                write!(formatter, "cannot inspect `{}`", path.display())
            }
        }
    }
}

impl std::error::Error for ResolveSymlinksError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResolveSymlinksError::TooManyLinks { .. } => None,
            ResolveSymlinksError::Inspect { source, .. } => Some(source),
        }
    }
}

/// The first symbolic link on the way to `path` (absolute; its last component included) that
/// `is_replaceable` says the sandboxed command could replace, following link chains. `Ok(None)`
/// when there is none. Components that do not exist are walked over as plain names (nothing
/// below a missing component can be a link yet).
pub fn replaceable_symlink(
    path: &Path,
    links: &dyn ReadLink,
    is_replaceable: &dyn Fn(LinkEntry<'_>) -> bool,
) -> Result<Option<ReplaceableSymlink>, ResolveSymlinksError> {
    let mut walk = Walk {
        links,
        is_replaceable,
        resolved: PathBuf::from("/"),
        budget: MAX_SYMLINKS,
    };
    match walk.walk(path, PathBuf::from("/")) {
        Ok(()) => Ok(None),
        Err(Stop::Replaceable(symlink)) => Ok(Some(symlink)),
        Err(Stop::TooManyLinks) => Err(ResolveSymlinksError::TooManyLinks {
            path: path.to_path_buf(),
        }),
        Err(Stop::Inspect { path, source }) => Err(ResolveSymlinksError::Inspect { path, source }),
    }
}

enum Stop {
    Replaceable(ReplaceableSymlink),
    TooManyLinks,
    Inspect { path: PathBuf, source: io::Error },
}

struct Walk<'a> {
    links: &'a dyn ReadLink,
    is_replaceable: &'a dyn Fn(LinkEntry<'_>) -> bool,
    /// The resolved form of the components walked so far.
    resolved: PathBuf,
    budget: usize,
}

impl Walk<'_> {
    /// Walk `path` from the current `resolved` position; `spelled` is where the walk is in the
    /// spelling of `path` (a relative link target starts at its link's spelled directory).
    fn walk(&mut self, path: &Path, mut spelled: PathBuf) -> Result<(), Stop> {
        for component in path.components() {
            match component {
                Component::RootDir => {
                    self.resolved = PathBuf::from("/");
                    spelled = PathBuf::from("/");
                }
                Component::Prefix(_) | Component::CurDir => {}
                // `resolved` holds no symlink, so its parent is the physical parent.
                Component::ParentDir => {
                    self.resolved.pop();
                    spelled.pop();
                }
                Component::Normal(name) => {
                    let entry = self.resolved.join(name);
                    spelled.push(name);
                    let target = match self.links.read_link(&entry) {
                        Ok(Some(target)) => target,
                        Ok(None) => {
                            self.resolved = entry;
                            continue;
                        }
                        Err(source) => {
                            return Err(Stop::Inspect {
                                path: entry,
                                source,
                            });
                        }
                    };
                    if (self.is_replaceable)(LinkEntry {
                        resolved: &entry,
                        spelled: &spelled,
                    }) {
                        return Err(Stop::Replaceable(ReplaceableSymlink {
                            resolved: entry,
                            spelled,
                        }));
                    }
                    if self.budget == 0 {
                        return Err(Stop::TooManyLinks);
                    }
                    self.budget -= 1;
                    // A relative target resolves against the link's directory, which is
                    // `resolved` right now; an absolute one starts with `RootDir`.
                    let mut directory = spelled.clone();
                    directory.pop();
                    self.walk(&target, directory)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Symbolic links by path; every other path is a plain directory or file (or missing).
    #[derive(Default)]
    struct Links(BTreeMap<PathBuf, PathBuf>);

    impl Links {
        fn link(mut self, path: &str, target: &str) -> Links {
            self.0.insert(PathBuf::from(path), PathBuf::from(target));
            self
        }
    }

    impl ReadLink for Links {
        fn read_link(&self, path: &Path) -> io::Result<Option<PathBuf>> {
            Ok(self.0.get(path).cloned())
        }
    }

    /// A link is replaceable when its resolved directory entry lies under one of `roots`.
    fn under(roots: &[&str]) -> impl Fn(LinkEntry<'_>) -> bool {
        let roots: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
        move |entry: LinkEntry<'_>| {
            let directory = entry.resolved.parent().unwrap_or(Path::new("/"));
            roots.iter().any(|root| directory.starts_with(root))
        }
    }

    fn first(links: &Links, roots: &[&str], path: &str) -> Option<PathBuf> {
        replaceable_symlink(Path::new(path), links, &under(roots))
            .unwrap()
            .map(|symlink| symlink.resolved)
    }

    #[test]
    fn chain_through_two_writable_roots_stops_at_the_first_replaceable_link() {
        // `/opt/x` (read-only directory) -> `/w1/a` (writable) -> `/w2/b` (writable) -> `/data`.
        let links = Links::default()
            .link("/opt/x", "/w1/a")
            .link("/w1/a", "/w2/b")
            .link("/w2/b", "/data");
        assert_eq!(
            first(&links, &["/w1", "/w2"], "/opt/x/file"),
            Some(PathBuf::from("/w1/a"))
        );
        assert_eq!(
            first(&links, &["/w2"], "/opt/x/file"),
            Some(PathBuf::from("/w2/b"))
        );
        assert_eq!(first(&links, &["/elsewhere"], "/opt/x/file"), None);
    }

    #[test]
    fn the_last_component_counts_and_plain_paths_pass() {
        let links = Links::default().link("/w/cache", "/home/dev");
        assert_eq!(
            first(&links, &["/w"], "/w/cache"),
            Some(PathBuf::from("/w/cache"))
        );
        assert_eq!(first(&links, &["/w"], "/w/plain/missing/deeper"), None);
        assert_eq!(first(&links, &["/w"], "/"), None);
    }

    #[test]
    fn loops_and_overlong_chains_are_refused() {
        let links = Links::default()
            .link("/opt/a", "/opt/b")
            .link("/opt/b", "/opt/a");
        let error = replaceable_symlink(Path::new("/opt/a/x"), &links, &under(&[])).unwrap_err();
        assert!(
            matches!(&error, ResolveSymlinksError::TooManyLinks { path } if path == Path::new("/opt/a/x")),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "too many levels of symbolic links while resolving `/opt/a/x`"
        );
        // A self-loop, and a chain one hop longer than the budget.
        let links = Links::default().link("/s", "s");
        assert!(replaceable_symlink(Path::new("/s"), &links, &under(&[])).is_err());
        let mut links = Links::default();
        for hop in 0..=MAX_SYMLINKS {
            links = links.link(&format!("/l{hop}"), &format!("/l{}", hop + 1));
        }
        assert!(replaceable_symlink(Path::new("/l0"), &links, &under(&[])).is_err());
        // Exactly the budget is fine.
        let mut links = Links::default();
        for hop in 0..MAX_SYMLINKS {
            links = links.link(&format!("/l{hop}"), &format!("/l{}", hop + 1));
        }
        assert_eq!(first(&links, &[], "/l0/x"), None);
    }

    #[test]
    fn relative_targets_resolve_against_the_link_directory() {
        // `/ro/x -> ../w/y`: the link's directory is `/ro`, so the target is `/w/y`.
        let links = Links::default()
            .link("/ro/x", "../w/y")
            .link("/w/y", "z")
            .link("/ro/plain", "sub/dir");
        assert_eq!(
            first(&links, &["/w"], "/ro/x/file"),
            Some(PathBuf::from("/w/y"))
        );
        assert_eq!(first(&links, &["/w"], "/ro/plain/file"), None);
        let found = replaceable_symlink(Path::new("/ro/x"), &links, &under(&["/w"]))
            .unwrap()
            .unwrap();
        assert_eq!(
            found,
            ReplaceableSymlink {
                resolved: PathBuf::from("/w/y"),
                spelled: PathBuf::from("/w/y"),
            }
        );
    }

    #[test]
    fn parent_components_go_to_the_physical_parent() {
        // `/ro/link -> /deep/a/b`; `/ro/link/../c` is `/deep/a/c` (physically), not `/ro/c`.
        let links = Links::default()
            .link("/ro/link", "/deep/a/b")
            .link("/deep/a/c", "/target")
            .link("/ro/c", "/target");
        assert_eq!(
            first(&links, &["/deep"], "/ro/link/../c"),
            Some(PathBuf::from("/deep/a/c"))
        );
        let only_ro_c = |entry: LinkEntry<'_>| entry.resolved == Path::new("/ro/c");
        assert_eq!(
            replaceable_symlink(Path::new("/ro/link/../c"), &links, &only_ro_c).unwrap(),
            None
        );
        // `..` at `/` stays at `/`.
        assert_eq!(first(&links, &["/deep"], "/../../ro/link/x"), None);
    }

    #[test]
    fn spelled_entry_keeps_the_spelling_of_the_path_being_walked() {
        // `/alias -> /real`; the policy spells `/alias/w/link`.
        let links = Links::default()
            .link("/alias", "/real")
            .link("/real/w/link", "/elsewhere");
        let seen = std::cell::RefCell::new(Vec::new());
        let record = |entry: LinkEntry<'_>| {
            seen.borrow_mut()
                .push((entry.resolved.to_path_buf(), entry.spelled.to_path_buf()));
            false
        };
        assert_eq!(
            replaceable_symlink(Path::new("/alias/w/link/x"), &links, &record).unwrap(),
            None
        );
        assert_eq!(
            seen.into_inner(),
            vec![
                (PathBuf::from("/alias"), PathBuf::from("/alias")),
                (
                    PathBuf::from("/real/w/link"),
                    PathBuf::from("/alias/w/link")
                ),
            ]
        );
    }

    #[test]
    fn unreadable_components_are_errors() {
        struct Failing;
        impl ReadLink for Failing {
            fn read_link(&self, _path: &Path) -> io::Result<Option<PathBuf>> {
                Err(io::Error::from(io::ErrorKind::PermissionDenied))
            }
        }
        let error = replaceable_symlink(Path::new("/a/b"), &Failing, &under(&[])).unwrap_err();
        assert!(
            matches!(&error, ResolveSymlinksError::Inspect { path, .. } if path == Path::new("/a")),
            "{error:?}"
        );
    }

    #[test]
    fn host_file_system_reads_links_and_treats_missing_as_plain() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("real")).unwrap();
        std::fs::write(root.join("file"), "").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        #[cfg(unix)]
        assert_eq!(
            HostFileSystem.read_link(&root.join("link")).unwrap(),
            Some(root.join("real"))
        );
        assert_eq!(HostFileSystem.read_link(&root.join("real")).unwrap(), None);
        assert_eq!(
            HostFileSystem.read_link(&root.join("missing")).unwrap(),
            None
        );
        assert_eq!(
            HostFileSystem.read_link(&root.join("file/below")).unwrap(),
            None
        );
    }
}
