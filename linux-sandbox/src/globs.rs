//! Deny globs → concrete paths. Mount-based backends can only mask paths that exist, so each
//! git-style pattern (`*`, `?`, `[...]`, `**`) is expanded by walking the directory named by its
//! literal prefix. Bounded by depth (`glob_scan_max_depth`), by entries visited and by matches;
//! every error fails closed.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::PlanSandboxError;
use crate::paths::is_missing;

/// More matches than this is an error (the masks would make bubblewrap's setup slow).
pub(crate) const MAX_MATCHES: usize = 8192;
/// More directory entries visited than this is an error (ask for a depth limit instead).
pub(crate) const MAX_VISITED: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(Vec<u8>),
    Pattern(Vec<u8>),
    AnyDepth,
}

/// A parsed absolute glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    text: String,
    base: PathBuf,
    /// Segments after `base`.
    rest: Vec<Segment>,
}

impl Glob {
    pub(crate) fn parse(text: &str) -> Result<Glob, PlanSandboxError> {
        let invalid = |reason: &str| PlanSandboxError::InvalidDenyGlob {
            pattern: text.to_string(),
            reason: reason.to_string(),
        };
        if !text.starts_with('/') {
            return Err(invalid("the pattern must be an absolute path"));
        }
        let mut base = PathBuf::from("/");
        let mut rest = Vec::new();
        for part in text.split('/').filter(|part| !part.is_empty()) {
            let bytes = part.as_bytes();
            let segment = if part == "**" {
                Segment::AnyDepth
            } else if bytes
                .iter()
                .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
            {
                validate_brackets(bytes).map_err(invalid)?;
                Segment::Pattern(bytes.to_vec())
            } else {
                Segment::Literal(bytes.to_vec())
            };
            match segment {
                Segment::Literal(_) if rest.is_empty() => {
                    if part == ".." || part == "." {
                        return Err(invalid("`.` and `..` are not allowed"));
                    }
                    base.push(part);
                }
                segment => rest.push(segment),
            }
        }
        if rest.is_empty() {
            return Err(invalid(
                "the pattern has no wildcard; use a plain deny path",
            ));
        }
        if base == Path::new("/") {
            return Err(invalid(
                "the pattern must start with a literal directory (scanning the whole filesystem is not supported)",
            ));
        }
        Ok(Glob {
            text: text.to_string(),
            base,
            rest,
        })
    }

    pub(crate) fn base(&self) -> &Path {
        &self.base
    }

    /// Whether the path below `base`, given as its components, matches.
    fn matches(&self, components: &[&[u8]]) -> bool {
        match_segments(&self.rest, components)
    }

    /// Whether something below a directory at `components` could still match.
    fn may_descend(&self, components: &[&[u8]]) -> bool {
        if self.rest.contains(&Segment::AnyDepth) {
            return true;
        }
        components.len() < self.rest.len()
            && components
                .iter()
                .zip(&self.rest)
                .all(|(name, segment)| match_one(segment, name))
    }

    /// Every existing path below `base` that matches, without following symlinked directories.
    pub(crate) fn expand(&self, max_depth: Option<u32>) -> Result<Vec<PathBuf>, PlanSandboxError> {
        let scan_error = |reason: String| PlanSandboxError::DenyGlobScan {
            pattern: self.text.clone(),
            reason,
        };
        let mut matches = Vec::new();
        let mut visited = 0usize;
        let mut pending = vec![(self.base.clone(), 0u32)];
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
                        self.base.display()
                    )));
                }
                let path = entry.path();
                let Ok(relative) = path.strip_prefix(&self.base) else {
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

fn match_segments(segments: &[Segment], components: &[&[u8]]) -> bool {
    match segments.split_first() {
        None => components.is_empty(),
        Some((Segment::AnyDepth, rest)) => {
            (0..=components.len()).any(|skip| match_segments(rest, &components[skip..]))
        }
        Some((segment, rest)) => match components.split_first() {
            Some((name, remaining)) => match_one(segment, name) && match_segments(rest, remaining),
            None => false,
        },
    }
}

fn match_one(segment: &Segment, name: &[u8]) -> bool {
    match segment {
        Segment::Literal(literal) => literal == name,
        Segment::Pattern(pattern) => match_wildcards(pattern, name),
        Segment::AnyDepth => true,
    }
}

/// Wildcard match of one path component: `*`, `?`, `[...]` (with `!`/`^` negation and ranges)
/// and `\` escapes.
fn match_wildcards(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| match_wildcards(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && match_wildcards(rest, &name[1..]),
        Some((b'[', _)) => match (name.split_first(), parse_class(pattern)) {
            (Some((first, remaining)), Some((class, after))) => {
                class.matches(*first) && match_wildcards(after, remaining)
            }
            _ => false,
        },
        Some((b'\\', rest)) if !rest.is_empty() => {
            name.first() == rest.first() && match_wildcards(&rest[1..], &name[1..])
        }
        Some((literal, rest)) => name.first() == Some(literal) && match_wildcards(rest, &name[1..]),
    }
}

struct CharClass {
    negated: bool,
    ranges: Vec<(u8, u8)>,
}

impl CharClass {
    fn matches(&self, byte: u8) -> bool {
        let inside = self
            .ranges
            .iter()
            .any(|(low, high)| (*low..=*high).contains(&byte));
        inside != self.negated
    }
}

/// Parse `[...]` at the start of `pattern`; returns the class and the rest of the pattern.
fn parse_class(pattern: &[u8]) -> Option<(CharClass, &[u8])> {
    let mut index = 1;
    let negated = matches!(pattern.get(index), Some(b'!') | Some(b'^'));
    if negated {
        index += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let byte = *pattern.get(index)?;
        if byte == b']' && !first {
            return Some((CharClass { negated, ranges }, &pattern[index + 1..]));
        }
        first = false;
        let low = if byte == b'\\' {
            index += 1;
            *pattern.get(index)?
        } else {
            byte
        };
        if pattern.get(index + 1) == Some(&b'-')
            && pattern.get(index + 2).is_some_and(|b| *b != b']')
        {
            let high = *pattern.get(index + 2)?;
            ranges.push((low.min(high), low.max(high)));
            index += 3;
        } else {
            ranges.push((low, low));
            index += 1;
        }
    }
}

fn validate_brackets(pattern: &[u8]) -> Result<(), &'static str> {
    let mut index = 0;
    while index < pattern.len() {
        match pattern[index] {
            b'\\' => index += 2,
            b'[' => {
                let (_, rest) = parse_class(&pattern[index..]).ok_or("unclosed `[`")?;
                index = pattern.len() - rest.len();
            }
            _ => index += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, relative: &str) -> bool {
        let glob = Glob::parse(pattern).unwrap();
        let components: Vec<&[u8]> = relative
            .split('/')
            .filter(|part| !part.is_empty())
            .map(str::as_bytes)
            .collect();
        glob.matches(&components)
    }

    #[test]
    fn git_style_wildcards() {
        assert!(matches("/w/**/*.env", ".env"));
        assert!(matches("/w/**/*.env", "a/b/prod.env"));
        assert!(!matches("/w/**/*.env", "a/b/prod.env.bak"));
        assert!(matches("/w/*.pem", "key.pem"));
        assert!(!matches("/w/*.pem", "sub/key.pem"));
        assert!(matches("/w/secret?", "secret1"));
        assert!(matches("/w/[a-c]x", "bx"));
        assert!(!matches("/w/[!a-c]x", "bx"));
        assert!(matches("/w/[]]x", "]x"));
        assert!(matches("/w/a\\*", "a*"));
        assert!(!matches("/w/a\\*", "ab"));
        assert!(matches("/w/keys/**", "nested/deeper/file"));
    }

    #[test]
    fn rejects_patterns_that_cannot_be_scanned_safely() {
        assert!(Glob::parse("relative/*.env").is_err());
        assert!(Glob::parse("/**/*.pem").is_err());
        assert!(Glob::parse("/w/[abc").is_err());
        assert!(Glob::parse("/w/plain").is_err());
        assert_eq!(Glob::parse("/w/x/*.env").unwrap().base(), Path::new("/w/x"));
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
        let glob = Glob::parse(&format!("{}/**/*.env", root.display())).unwrap();
        assert_eq!(
            glob.expand(None).unwrap(),
            vec![root.join(".env"), root.join("a/b/prod.env")]
        );
        assert_eq!(glob.expand(Some(1)).unwrap(), vec![root.join(".env")]);
        let missing = Glob::parse(&format!("{}/nope/*.env", root.display())).unwrap();
        assert!(missing.expand(None).unwrap().is_empty());
    }
}
