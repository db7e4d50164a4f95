//! Hiding individual files and directories below a readable path with grant-only rules
//! (Landlock).
//!
//! Landlock can only grant access beneath a path. To keep a denied file or directory unreadable
//! below a readable root, the root keeps `ReadDir` (listing) beneath it, and full read access is
//! granted beneath every entry of the directories on the way from the root to the denied path,
//! except the way itself. The denied path's name stays visible in its directory, and (for a
//! directory, since `ReadDir` beneath the root covers it) so do the names of everything below
//! it; no contents are readable. Entries created in those directories after planning are not
//! readable (the way only runs through read-only areas, so the command itself cannot create any).

use std::collections::BTreeSet;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// Read grants that leave the excluded files unreadable.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ReadGrants {
    /// Full read access beneath these.
    pub full: Vec<PathBuf>,
    /// Only directory listing beneath these.
    pub list_only: Vec<PathBuf>,
}

/// Split each readable root into grants that skip `excluded` (existing files and directories
/// below it).
pub(crate) fn exclude(readable: &[PathBuf], excluded: &[PathBuf]) -> io::Result<ReadGrants> {
    let mut grants = ReadGrants::default();
    for root in readable {
        let below: Vec<&PathBuf> = excluded
            .iter()
            .filter(|path| path.starts_with(root) && *path != root)
            .collect();
        if below.is_empty() {
            grants.full.push(root.clone());
            continue;
        }
        grants.list_only.push(root.clone());
        let mut way: BTreeSet<PathBuf> = BTreeSet::new();
        for path in &below {
            let mut current: &Path = path;
            loop {
                way.insert(current.to_path_buf());
                if current == root.as_path() {
                    break;
                }
                match current.parent() {
                    Some(parent) => current = parent,
                    None => break,
                }
            }
        }
        for directory in way.iter().filter(|path| !below.contains(path)) {
            for entry in std::fs::read_dir(directory)? {
                let entry = entry?;
                let path = entry.path();
                // Symlinks are resolved at access time and checked at their target (a grant
                // on today's target would be wrong tomorrow, and `/dev/stdin` names a pipe
                // Landlock cannot take a rule for); sockets have no read right to grant.
                let file_type = entry.file_type()?;
                if file_type.is_symlink() || file_type.is_socket() {
                    continue;
                }
                if !way.contains(&path) {
                    grants.full.push(path);
                }
            }
        }
    }
    grants.full.sort();
    grants.full.dedup();
    grants.list_only.sort();
    grants.list_only.dedup();
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_everything_but_the_way_to_the_excluded_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for directory in ["home/.codex", "home/src", "etc"] {
            std::fs::create_dir_all(root.join(directory)).unwrap();
        }
        for file in [
            "home/.codex/auth.json",
            "home/.codex/config.toml",
            "home/.bashrc",
            "etc/hosts",
        ] {
            std::fs::write(root.join(file), "x").unwrap();
        }
        let grants = exclude(
            std::slice::from_ref(&root),
            &[root.join("home/.codex/auth.json")],
        )
        .unwrap();
        assert_eq!(grants.list_only, vec![root.clone()]);
        assert_eq!(
            grants.full,
            vec![
                root.join("etc"),
                root.join("home/.bashrc"),
                root.join("home/.codex/config.toml"),
                root.join("home/src"),
            ]
        );
    }

    #[test]
    fn roots_without_exclusions_are_granted_whole() {
        let grants = exclude(&[PathBuf::from("/usr")], &[PathBuf::from("/etc/shadow")]).unwrap();
        assert_eq!(grants.full, vec![PathBuf::from("/usr")]);
        assert!(grants.list_only.is_empty());
    }
}
