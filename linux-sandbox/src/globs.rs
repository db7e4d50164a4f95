//! Deny globs → concrete paths. Mount-based backends can only mask paths that exist, so each
//! git-style pattern (`*`, `?`, `[...]`, `**`) is expanded by walking the directory named by its
//! literal prefix. Bounded by depth (`glob_scan_max_depth`), by entries visited and by matches;
//! every error fails closed.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::DenyGlob;

use crate::error::PlanSandboxError;
use crate::paths::is_missing;

/// More matches than this is an error (the masks would make bubblewrap's setup slow).
pub(crate) const MAX_MATCHES: usize = 8192;
/// More directory entries visited than this is an error (ask for a depth limit instead).
pub(crate) const MAX_VISITED: usize = 200_000;

/// A deny glob the bubblewrap expander can scan: its literal base is below `/`.
pub(crate) struct Glob<'a> {
    glob: &'a DenyGlob,
}

impl<'a> Glob<'a> {
    pub(crate) fn new(glob: &'a DenyGlob) -> Result<Glob<'a>, PlanSandboxError> {
        if glob.base() == Path::new("/") {
            return Err(PlanSandboxError::InvalidDenyGlob {
                pattern: glob.as_str().to_string(),
                reason: "the pattern must start with a literal directory (scanning the whole filesystem is not supported)".to_string(),
            });
        }
        Ok(Glob { glob })
    }

    pub(crate) fn base(&self) -> &Path {
        self.glob.base()
    }

    fn matches(&self, components: &[&[u8]]) -> bool {
        self.glob.matches_below_base(components)
    }

    fn may_descend(&self, components: &[&[u8]]) -> bool {
        self.glob.may_descend(components)
    }

    /// Every existing path below `base` that matches, without following symlinked directories.
    pub(crate) fn expand(&self, max_depth: Option<u32>) -> Result<Vec<PathBuf>, PlanSandboxError> {
        let scan_error = |reason: String| PlanSandboxError::DenyGlobScan {
            pattern: self.glob.as_str().to_string(),
            reason,
        };
        let mut matches = Vec::new();
        let mut visited = 0usize;
        let mut pending = vec![(self.base().to_path_buf(), 0u32)];
        while let Some((dir, depth)) = pending.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(error) if is_missing(&error) => continue,
                Err(error) => {
                    return Err(scan_error(format!(
                        "cannot read `{}`: {error}",
                        dir.display()
                    )));
                }
            };
            for entry in entries {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) if is_missing(&error) => continue,
                    Err(error) => {
                        return Err(scan_error(format!(
                            "cannot read `{}`: {error}",
                            dir.display()
                        )));
                    }
                };
                visited += 1;
                if visited > MAX_VISITED {
                    return Err(scan_error(format!(
                        "more than {MAX_VISITED} entries below `{}`",
                        self.base().display()
                    )));
                }
                let path = entry.path();
                let Ok(relative) = path.strip_prefix(self.base()) else {
                    continue;
                };
                let components: Vec<&[u8]> = relative
                    .iter()
                    .map(|part: &OsStr| part.as_bytes())
                    .collect();
                if self.matches(&components) {
                    matches.push(path.clone());
                    if matches.len() > MAX_MATCHES {
                        return Err(scan_error(format!("more than {MAX_MATCHES} matches")));
                    }
                }
                let is_dir = match entry.file_type() {
                    Ok(file_type) => file_type.is_dir(),
                    Err(error) if is_missing(&error) => false,
                    Err(error) => {
                        return Err(scan_error(format!(
                            "cannot inspect `{}`: {error}",
                            path.display()
                        )));
                    }
                };
                let deeper = depth + 1;
                if is_dir
                    && max_depth.is_none_or(|limit| deeper < limit)
                    && self.may_descend(&components)
                {
                    pending.push((path, deeper));
                }
            }
        }
        matches.sort();
        Ok(matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_without_a_literal_directory_is_refused() {
        let glob = DenyGlob::parse("/**/*.pem").unwrap();
        assert!(Glob::new(&glob).is_err());
        let glob = DenyGlob::parse("/w/x/*.env").unwrap();
        assert_eq!(Glob::new(&glob).unwrap().base(), Path::new("/w/x"));
    }

    #[test]
    fn expands_below_the_literal_prefix_and_respects_depth() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join(".env"), "").unwrap();
        std::fs::write(root.join("a/b/prod.env"), "").unwrap();
        std::fs::write(root.join("a/readme"), "").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("a/etc-link")).unwrap();
        let pattern = DenyGlob::parse(&format!("{}/**/*.env", root.display())).unwrap();
        let glob = Glob::new(&pattern).unwrap();
        assert_eq!(
            glob.expand(None).unwrap(),
            vec![root.join(".env"), root.join("a/b/prod.env")]
        );
        assert_eq!(glob.expand(Some(1)).unwrap(), vec![root.join(".env")]);
        let pattern = DenyGlob::parse(&format!("{}/nope/*.env", root.display())).unwrap();
        assert!(
            Glob::new(&pattern)
                .unwrap()
                .expand(None)
                .unwrap()
                .is_empty()
        );
    }
}
