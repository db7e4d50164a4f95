//! Path helpers shared by layers, permission profiles and requirements.

use std::path::{Path, PathBuf};

use codex_sandboxing::normalize;

use crate::home::home_dir;

/// `~` / `~/…` against the home directory, absolute paths as they are, anything else against
/// `base`; the result is lexically normalised.
pub(crate) fn resolve_user_path(text: &str, base: &Path) -> PathBuf {
    if let Some(expanded) = expand_tilde(text) {
        return normalize(&expanded);
    }
    normalize(&base.join(text))
}

/// `~` or `~/rest` with the home directory substituted; `None` when `text` does not start so or
/// no home directory is known.
pub(crate) fn expand_tilde(text: &str) -> Option<PathBuf> {
    if text == "~" {
        return home_dir();
    }
    let rest = text.strip_prefix("~/")?;
    Some(home_dir()?.join(rest))
}

/// True when `text` contains git-style glob syntax.
pub(crate) fn has_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', ']'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_absolute_and_tilde() {
        assert_eq!(
            resolve_user_path("a/./b/../c", Path::new("/base")),
            PathBuf::from("/base/a/c")
        );
        assert_eq!(
            resolve_user_path("/x/../y", Path::new("/base")),
            PathBuf::from("/y")
        );
        if let Some(home) = home_dir() {
            assert_eq!(
                resolve_user_path("~/code", Path::new("/base")),
                normalize(&home.join("code"))
            );
            assert_eq!(resolve_user_path("~", Path::new("/base")), normalize(&home));
        }
        assert!(has_glob("**/*.env"));
        assert!(!has_glob("/plain/path"));
    }
}
