//! `[shell_environment_policy]`: which environment variables a sandboxed command sees.

use std::collections::BTreeMap;
use std::ffi::OsString;

use toml::{Table, Value};

/// Which variables start out inherited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvironmentInherit {
    #[default]
    All,
    /// Only `HOME`, `LOGNAME`, `PATH`, `SHELL`, `USER`, `USERNAME`, `TMPDIR`, `TEMP`, `TMP`.
    Core,
    None,
}

const CORE_VARIABLES: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP",
];
const DEFAULT_EXCLUDES: &[&str] = &["*KEY*", "*SECRET*", "*TOKEN*"];

/// The resolved policy. Patterns are case-insensitive globs (`*`, `?`, `[…]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellEnvironmentPolicy {
    pub inherit: EnvironmentInherit,
    /// Keep variables matching `*KEY*`, `*SECRET*`, `*TOKEN*` (dropped by default).
    pub ignore_default_excludes: bool,
    pub exclude: Vec<String>,
    pub include_only: Vec<String>,
    pub set: BTreeMap<String, String>,
}

impl ShellEnvironmentPolicy {
    /// From the validated `[shell_environment_policy]` table.
    pub(crate) fn from_table(table: Option<&Table>) -> ShellEnvironmentPolicy {
        let Some(table) = table else {
            return ShellEnvironmentPolicy::default();
        };
        let list = |key: &str| -> Vec<String> {
            table
                .get(key)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        ShellEnvironmentPolicy {
            inherit: match table.get("inherit").and_then(Value::as_str) {
                Some("core") => EnvironmentInherit::Core,
                Some("none") => EnvironmentInherit::None,
                _ => EnvironmentInherit::All,
            },
            ignore_default_excludes: table
                .get("ignore_default_excludes")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            exclude: list("exclude"),
            include_only: list("include_only"),
            set: table
                .get("set")
                .and_then(Value::as_table)
                .map(|set| {
                    set.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The child's environment from the parent's `vars`: inherit, drop default excludes,
    /// drop `exclude`, apply `set`, then keep only `include_only` (when non-empty). Sorted by
    /// name.
    pub fn create_env(
        &self,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Vec<(OsString, OsString)> {
        let matches_any = |name: &OsString, patterns: &[String]| {
            let name = name.to_string_lossy();
            patterns.iter().any(|pattern| glob_matches(pattern, &name))
        };
        let default_excludes: Vec<String> =
            DEFAULT_EXCLUDES.iter().map(|p| (*p).to_string()).collect();
        let mut env: BTreeMap<OsString, OsString> = vars
            .into_iter()
            .filter(|(name, _)| match self.inherit {
                EnvironmentInherit::All => true,
                EnvironmentInherit::Core => CORE_VARIABLES.iter().any(|core| name == core),
                EnvironmentInherit::None => false,
            })
            .filter(|(name, _)| {
                self.ignore_default_excludes || !matches_any(name, &default_excludes)
            })
            .filter(|(name, _)| !matches_any(name, &self.exclude))
            .collect();
        for (name, value) in &self.set {
            env.insert(OsString::from(name), OsString::from(value));
        }
        if !self.include_only.is_empty() {
            env.retain(|name, _| matches_any(name, &self.include_only));
        }
        env.into_iter().collect()
    }
}

/// Case-insensitive glob match of the whole `text`.
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    matches_from(&pattern, &text)
}

fn matches_from(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| matches_from(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && matches_from(rest, &text[1..]),
        Some(('[', rest)) => {
            let Some(close) = rest.iter().position(|c| *c == ']') else {
                return text.first() == Some(&'[') && matches_from(rest, &text[1..]);
            };
            let Some(first) = text.first() else {
                return false;
            };
            let (negate, class) = match rest[..close].split_first() {
                Some(('!' | '^', class)) => (true, class),
                _ => (false, &rest[..close]),
            };
            let mut found = false;
            let mut index = 0;
            while index < class.len() {
                if index + 2 < class.len() && class[index + 1] == '-' {
                    found |= (class[index]..=class[index + 2]).contains(first);
                    index += 3;
                } else {
                    found |= class[index] == *first;
                    index += 1;
                }
            }
            found != negate && matches_from(&rest[close + 1..], &text[1..])
        }
        Some((c, rest)) => text.first() == Some(c) && matches_from(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn policy(text: &str) -> ShellEnvironmentPolicy {
        let table: Table = toml::from_str(text).unwrap();
        ShellEnvironmentPolicy::from_table(Some(&table))
    }

    const PARENT: &[(&str, &str)] = &[
        ("PATH", "/bin"),
        ("HOME", "/h"),
        ("OPENAI_API_KEY", "k"),
        ("github_token", "t"),
        ("MY_SECRET_X", "s"),
        ("EDITOR", "vi"),
        ("LANG", "C"),
    ];

    #[test]
    fn default_inherits_all_but_secret_looking_names() {
        assert_eq!(
            policy("").create_env(vars(PARENT)),
            vars(&[
                ("EDITOR", "vi"),
                ("HOME", "/h"),
                ("LANG", "C"),
                ("PATH", "/bin")
            ])
        );
    }

    #[test]
    fn ignore_default_excludes_keeps_them() {
        let env = policy("ignore_default_excludes = true").create_env(vars(PARENT));
        assert_eq!(env.len(), PARENT.len());
    }

    #[test]
    fn core_none_exclude_set_include_only() {
        assert_eq!(
            policy("inherit = 'core'").create_env(vars(PARENT)),
            vars(&[("HOME", "/h"), ("PATH", "/bin")])
        );
        assert_eq!(
            policy("inherit = 'none'\nset = { A = '1' }").create_env(vars(PARENT)),
            vars(&[("A", "1")])
        );
        assert_eq!(
            policy("exclude = ['l*', 'ED?TOR']\nset = { X = 'y' }").create_env(vars(PARENT)),
            vars(&[("HOME", "/h"), ("PATH", "/bin"), ("X", "y")])
        );
        assert_eq!(
            policy("include_only = ['[hp]*']\nset = { Z = '1' }").create_env(vars(PARENT)),
            vars(&[("HOME", "/h"), ("PATH", "/bin")])
        );
    }

    #[test]
    fn glob_matching() {
        assert!(glob_matches("*key*", "OPENAI_API_KEY"));
        assert!(glob_matches("a?c", "ABC"));
        assert!(glob_matches("[a-c]x", "bx"));
        assert!(!glob_matches("[!a-c]x", "bx"));
        assert!(!glob_matches("abc", "abcd"));
    }
}
