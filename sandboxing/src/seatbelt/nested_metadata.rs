//! Project metadata created anywhere in a writable area.
//!
//! A later session started in `repo/sub` loads `repo/sub/.codex/config.toml` and
//! `repo/sub/.agents/…` as project configuration, so a `.codex` or `.agents` directory created
//! at *any* depth below a writable root is as dangerous as one directly in it. Protected paths
//! only name `<root>/.codex` and `<root>/.agents`; this adds, for every writable subtree,
//!
//! ```text
//! (deny file-write* (regex #"^<root>/(.*/)?\.(codex|agents)(/.*)?$"))
//! ```
//!
//! (a path component named exactly `.codex` or `.agents` strictly below the root; components of
//! the root's own path do not count). `.git` is only protected directly in a root: nested
//! repositories and submodules legitimately write their own `.git`.
//!
//! The names are matched case-insensitively (`[cC][oO]…`): the default APFS volume is
//! case-insensitive, and the entry a command *creates* is matched under the spelling it used,
//! so `mkdir .CODEX` would otherwise slip past a rule for `.codex` and still be loaded as
//! `.codex` later. For the same reason a protected `<root>/.git` gets a case-insensitive regex
//! next to its literal exclusion. Not covered: other Unicode case-folding equivalents (such as
//! `ſ` for `s`) that the file system may fold together.
//!
//! Every root is escaped with [`glob::escape_literal`]; a root that is not UTF-8 cannot be
//! written into a regex and is refused rather than left unprotected.

use std::path::{Path, PathBuf};

use codex_sandbox_policy::{ProtectedKind, SandboxPolicy};

use super::canonical::{Canonicalize, resolve};
use super::{SeatbeltPlanError, glob};

/// The names protected at any depth below a writable root.
const NESTED_NAMES: &[&str] = &[".codex", ".agents"];

/// The deny regexes for `subtrees` (canonical writable roots and other writable subtrees) and
/// for the protected `.git` entries of `policy`'s writable roots, de-duplicated, in order.
pub(crate) fn regexes(
    policy: &SandboxPolicy,
    subtrees: &[&Path],
    canonicalizer: &dyn Canonicalize,
) -> Result<Vec<String>, SeatbeltPlanError> {
    let mut regexes: Vec<String> = Vec::new();
    let alternatives: Vec<String> = NESTED_NAMES
        .iter()
        .map(|name| case_insensitive(name))
        .collect();
    for subtree in subtrees {
        let regex = format!(
            "^{}/(.*/)?({})(/.*)?$",
            escaped_directory(subtree)?,
            alternatives.join("|")
        );
        if !regexes.contains(&regex) {
            regexes.push(regex);
        }
    }
    for protected in policy
        .writable_roots
        .iter()
        .flat_map(|root| root.protected.iter())
        .filter(|protected| protected.kind == ProtectedKind::Metadata)
    {
        let (Some(parent), Some(name)) = (protected.path.parent(), protected.path.file_name())
        else {
            continue;
        };
        if name != ".git" {
            continue;
        }
        let parent = resolve(canonicalizer, parent);
        let regex = format!(
            "^{}/{}(/.*)?$",
            escaped_directory(&parent)?,
            case_insensitive(".git")
        );
        if !regexes.contains(&regex) {
            regexes.push(regex);
        }
    }
    Ok(regexes)
}

/// `directory` as a regex literal, without a trailing slash (`/` becomes the empty string).
fn escaped_directory(directory: &Path) -> Result<String, SeatbeltPlanError> {
    let text = directory
        .to_str()
        .ok_or_else(|| SeatbeltPlanError::NonUtf8WritablePath {
            path: PathBuf::from(directory),
        })?;
    Ok(glob::escape_literal(text.trim_end_matches('/')))
}

/// `.codex` → `\.[cC][oO][dD][eE][xX]`.
fn case_insensitive(name: &str) -> String {
    let mut regex = String::new();
    for character in name.chars() {
        if character.is_ascii_alphabetic() {
            regex.push('[');
            regex.push(character.to_ascii_lowercase());
            regex.push(character.to_ascii_uppercase());
            regex.push(']');
        } else {
            regex.push_str(&glob::escape_literal(&character.to_string()));
        }
    }
    regex
}

#[cfg(test)]
mod tests {
    use super::super::canonical::fake::FakeFileSystem;
    use super::super::regex_matcher::is_match;
    use super::super::test_support::PolicyBuilder;
    use super::*;

    #[test]
    fn names_are_anchored_below_an_escaped_root_and_case_insensitive() {
        let policy = PolicyBuilder::new("/w").build();
        let regexes = regexes(
            &policy,
            &[Path::new("/Users/dev/my.repo (1)+")],
            &FakeFileSystem::default(),
        )
        .unwrap();
        assert_eq!(
            regexes,
            vec![
                r"^/Users/dev/my\.repo \(1\)\+/(.*/)?(\.[cC][oO][dD][eE][xX]|\.[aA][gG][eE][nN][tT][sS])(/.*)?$"
            ]
        );
        let regex = &regexes[0];
        for denied in [
            "/Users/dev/my.repo (1)+/.codex",
            "/Users/dev/my.repo (1)+/.agents/skills/x.md",
            "/Users/dev/my.repo (1)+/sub/deeper/.codex/config.toml",
            "/Users/dev/my.repo (1)+/sub/.CoDeX",
        ] {
            assert!(is_match(regex, denied), "{denied} must be denied");
        }
        for allowed in [
            "/Users/dev/my.repo (1)+",
            "/Users/dev/my.repo (1)+/.codexx",
            "/Users/dev/my.repo (1)+/x.codex/y",
            "/Users/dev/my.repo (1)+/sub/.git/config",
            "/Users/dev/myXrepo (1)+/.codex",
            "/Users/dev/.codex/config.toml",
        ] {
            assert!(!is_match(regex, allowed), "{allowed} must stay writable");
        }
    }

    #[test]
    fn protected_git_gets_a_case_insensitive_rule_and_root_is_not_doubled() {
        let policy = PolicyBuilder::new("/var/folders/x/repo")
            .write("/var/folders/x/repo")
            .protect("/var/folders/x/repo", "/var/folders/x/repo/.git")
            .build();
        let file_system = FakeFileSystem::macos().exists("/private/var/folders/x/repo");
        let regexes = regexes(&policy, &[Path::new("/")], &file_system).unwrap();
        assert_eq!(
            regexes,
            vec![
                r"^/(.*/)?(\.[cC][oO][dD][eE][xX]|\.[aA][gG][eE][nN][tT][sS])(/.*)?$".to_string(),
                r"^/private/var/folders/x/repo/\.[gG][iI][tT](/.*)?$".to_string(),
            ]
        );
        assert!(is_match(
            &regexes[1],
            "/private/var/folders/x/repo/.GIT/hooks/pre-commit"
        ));
        assert!(!is_match(
            &regexes[1],
            "/private/var/folders/x/repo/sub/.git/x"
        ));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_root_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let root = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff"));
        let policy = PolicyBuilder::new("/w").build();
        assert!(matches!(
            regexes(&policy, &[root], &FakeFileSystem::default()),
            Err(SeatbeltPlanError::NonUtf8WritablePath { .. })
        ));
    }
}
