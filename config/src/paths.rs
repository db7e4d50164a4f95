//! Path helpers shared by layers, permission profiles and requirements.

use std::path::{Component, Path, PathBuf};

use codex_sandbox_policy::normalize;

use crate::home::{account_home_dir, home_dir};

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

/// `~` or `~/rest` against `home`; `None` when `text` does not start so.
pub(crate) fn expand_tilde_with(text: &str, home: &Path) -> Option<PathBuf> {
    if text == "~" {
        return Some(home.to_path_buf());
    }
    Some(home.join(text.strip_prefix("~/")?))
}

/// The home directories a `~` in administrator requirements may stand for, most trusted first:
/// the account's (password database) and, when different, `$HOME`. Denials are applied to
/// both, so neither an edited `$HOME` nor a missing password entry moves them elsewhere.
pub(crate) fn requirement_home_dirs() -> Vec<PathBuf> {
    let mut homes: Vec<PathBuf> = account_home_dir()
        .into_iter()
        .map(|h| normalize(&h))
        .collect();
    if let Some(home) = home_dir().map(|home| normalize(&home))
        && !homes.contains(&home)
    {
        homes.push(home);
    }
    homes
}

/// Whether `\` escapes the next character in globs. Not on Windows, where it separates path
/// components (there, a path with glob characters cannot be escaped).
const GLOB_ESCAPES: bool = cfg!(unix);

/// True when `text` contains git-style glob syntax (`*`, `?`, `[`, `]`) that is not escaped
/// with a backslash.
pub(crate) fn has_glob(text: &str) -> bool {
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' if GLOB_ESCAPES => {
                characters.next();
            }
            '*' | '?' | '[' | ']' => return true,
            _ => {}
        }
    }
    false
}

/// `text` with every glob metacharacter (and the escape character) escaped, so that as a glob it
/// matches exactly `text`.
pub(crate) fn glob_escape(text: &str) -> String {
    if !GLOB_ESCAPES {
        return text.to_string();
    }
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// A deny glob for `written` (user-written glob text; relative to `base` unless absolute).
/// Components that come from `base` are glob-escaped, so a base such as `~/Project [2024]`
/// matches literally; the user-written part keeps its glob syntax. `None` when a component of
/// `base` the pattern keeps is not valid UTF-8 (it cannot be written as a glob).
pub(crate) fn deny_glob_pattern(base: &Path, written: &str) -> Option<String> {
    let base = normalize(base);
    let user_written_only = Path::new(written).is_absolute();
    let full = normalize(&base.join(written));
    let base_components: Vec<Component<'_>> = base.components().collect();
    let mut pattern = String::new();
    let mut inherited = !user_written_only;
    for (index, component) in full.components().enumerate() {
        inherited = inherited && base_components.get(index) == Some(&component);
        match component {
            Component::Normal(part) => {
                if !pattern.ends_with('/') {
                    pattern.push('/');
                }
                let text = part.to_str()?;
                if inherited {
                    pattern.push_str(&glob_escape(text));
                } else {
                    pattern.push_str(text);
                }
            }
            Component::RootDir => pattern.push('/'),
            Component::Prefix(prefix) => {
                pattern.push_str(&glob_escape(prefix.as_os_str().to_str()?))
            }
            Component::CurDir | Component::ParentDir => {}
        }
    }
    Some(pattern)
}

/// The literal text of a glob without unescaped metacharacters (escapes removed); `None` when
/// `pattern` really is a glob.
pub(crate) fn glob_literal(pattern: &str) -> Option<String> {
    if has_glob(pattern) {
        return None;
    }
    let mut literal = String::with_capacity(pattern.len());
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' if GLOB_ESCAPES => literal.extend(characters.next()),
            other => literal.push(other),
        }
    }
    Some(literal)
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

    #[cfg(unix)]
    #[test]
    fn glob_escaping_round_trips() {
        let path = "/home/me/Project [2024]/a*b?\\c";
        let escaped = glob_escape(path);
        assert_eq!(escaped, "/home/me/Project \\[2024\\]/a\\*b\\?\\\\c");
        assert!(!has_glob(&escaped));
        assert_eq!(glob_literal(&escaped).as_deref(), Some(path));
        assert_eq!(glob_literal(&format!("{escaped}/**/*.env")), None);
        assert_eq!(
            expand_tilde_with("~/x", Path::new("/h")),
            Some(PathBuf::from("/h/x"))
        );
        assert_eq!(
            expand_tilde_with("~", Path::new("/h")),
            Some(PathBuf::from("/h"))
        );
        assert_eq!(expand_tilde_with("~x", Path::new("/h")), None);
    }

    #[cfg(unix)]
    #[test]
    fn deny_glob_pattern_escapes_only_the_base() {
        let base = Path::new("/home/me/Project [2024]");
        assert_eq!(
            deny_glob_pattern(base, "**/*.env").as_deref(),
            Some("/home/me/Project \\[2024\\]/**/*.env")
        );
        assert_eq!(
            deny_glob_pattern(base, "../x/*.pem").as_deref(),
            Some("/home/me/x/*.pem")
        );
        assert_eq!(
            deny_glob_pattern(base, "/abs/[ab]/./*.key").as_deref(),
            Some("/abs/[ab]/*.key")
        );
        assert_eq!(
            deny_glob_pattern(Path::new("/"), "*.env").as_deref(),
            Some("/*.env")
        );
    }
}
