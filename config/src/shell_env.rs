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
/// Secret-looking names: credentials by their usual spellings (`GITHUB_TOKEN`, `GH_TOKEN`,
/// `NPM_TOKEN` and `*_API_KEY` fall under the substrings), every AWS variable (profiles and
/// regions are harmless, but `AWS_*` is where the keys live under names that change), the agent
/// sockets and ticket caches that let a command act as the user (`SSH_AUTH_SOCK`,
/// `GPG_AGENT_INFO`, `KRB5CCNAME`), and MySQL's `MYSQL_PWD`.
const DEFAULT_EXCLUDES: &[&str] = &[
    "*KEY*",
    "*SECRET*",
    "*TOKEN*",
    "*PASSWORD*",
    "*PASSWD*",
    "*PASSPHRASE*",
    "*CREDENTIAL*",
    "*_PAT",
    "AWS_*",
    "MYSQL_PWD",
    "SSH_AUTH_SOCK",
    "GPG_AGENT_INFO",
    "KRB5CCNAME",
];
/// Credentials the agent itself uses; never passed by default whatever their name looks like.
const CREDENTIAL_VARIABLES: &[&str] = &["OPENAI_API_KEY", "CODEX_API_KEY", "CODEX_ACCESS_TOKEN"];

/// The resolved policy. Patterns are case-insensitive globs (`*`, `?`, `[…]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellEnvironmentPolicy {
    pub inherit: EnvironmentInherit,
    /// Keep secret-looking variables (dropped by default): names matching `*KEY*`,
    /// `*SECRET*`, `*TOKEN*`, `*PASSWORD*`, `*PASSWD*`, `*PASSPHRASE*`, `*CREDENTIAL*`,
    /// `*_PAT` or `AWS_*`, and `MYSQL_PWD`, `SSH_AUTH_SOCK`, `GPG_AGENT_INFO`, `KRB5CCNAME`
    /// (case-insensitive), `OPENAI_API_KEY`, `CODEX_API_KEY`, `CODEX_ACCESS_TOKEN` and the model
    /// provider's `env_key`.
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
    /// name. Same as [`ShellEnvironmentPolicy::create_env_without_secrets`] with no extra
    /// secret names.
    pub fn create_env(
        &self,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Vec<(OsString, OsString)> {
        self.create_env_without_secrets(vars, &[])
    }

    /// [`ShellEnvironmentPolicy::create_env`], also treating `secret_names` (the model
    /// provider's `env_key`) as secrets. A secret (a default exclude, a credential variable or
    /// one of `secret_names`) is passed only when `ignore_default_excludes` is set, `set`
    /// gives it a value, or an `include_only` entry names it exactly (no wildcards): a pattern
    /// such as `*` never lets one through.
    pub fn create_env_without_secrets(
        &self,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        secret_names: &[&str],
    ) -> Vec<(OsString, OsString)> {
        let default_excludes = if self.ignore_default_excludes {
            Vec::new()
        } else {
            let mut patterns = Pattern::compile(DEFAULT_EXCLUDES);
            patterns.extend(
                CREDENTIAL_VARIABLES
                    .iter()
                    .chain(secret_names)
                    .filter(|name| !name.is_empty())
                    .map(|name| Pattern::new(name)),
            );
            patterns
        };
        let named_exactly = |name: &OsString| {
            self.include_only.iter().any(|entry| {
                !entry.contains(['*', '?', '['])
                    && name
                        .to_str()
                        .is_some_and(|name| name.eq_ignore_ascii_case(entry))
            })
        };
        let exclude = Pattern::compile(&self.exclude);
        let include_only = Pattern::compile(&self.include_only);
        let matches_any = |name: &OsString, patterns: &[Pattern]| {
            !patterns.is_empty() && {
                let name = Name::new(name);
                patterns.iter().any(|pattern| pattern.matches(&name))
            }
        };
        let mut env: BTreeMap<OsString, OsString> = vars
            .into_iter()
            .filter(|(name, _)| match self.inherit {
                EnvironmentInherit::All => true,
                EnvironmentInherit::Core => CORE_VARIABLES.iter().any(|core| name == core),
                EnvironmentInherit::None => false,
            })
            .filter(|(name, _)| !matches_any(name, &default_excludes) || named_exactly(name))
            .filter(|(name, _)| !matches_any(name, &exclude))
            .collect();
        for (name, value) in &self.set {
            env.insert(OsString::from(name), OsString::from(value));
        }
        if !include_only.is_empty() {
            env.retain(|name, _| matches_any(name, &include_only));
        }
        env.into_iter().collect()
    }
}

/// A variable name prepared for matching: its bytes when they are ASCII (then lowercasing is
/// per byte), else its lowercased characters (`to_lowercase` can turn a non-ASCII character into
/// ASCII ones, e.g. the Kelvin sign into `k`, so those names take the general path).
enum Name<'a> {
    Ascii(&'a [u8]),
    Chars(Vec<char>),
}

impl<'a> Name<'a> {
    fn new(name: &'a OsString) -> Name<'a> {
        let bytes = name.as_encoded_bytes();
        if bytes.is_ascii() {
            Name::Ascii(bytes)
        } else {
            Name::Chars(name.to_string_lossy().to_lowercase().chars().collect())
        }
    }
}

/// A pattern compiled once per [`ShellEnvironmentPolicy::create_env`] call.
enum Pattern {
    /// `*LITERAL*` with an ASCII literal free of wildcards (the default excludes): a
    /// case-insensitive substring search. Holds the lowercased literal.
    Contains(Vec<u8>),
    /// Anything else: lowercased tokens for [`matches_tokens`].
    Tokens(Vec<Token>),
}

impl Pattern {
    fn compile<S: AsRef<str>>(patterns: &[S]) -> Vec<Pattern> {
        patterns
            .iter()
            .map(|pattern| Pattern::new(pattern.as_ref()))
            .collect()
    }

    fn new(pattern: &str) -> Pattern {
        let literal = pattern
            .strip_prefix('*')
            .and_then(|rest| rest.strip_suffix('*'))
            .filter(|literal| {
                !literal.is_empty() && literal.is_ascii() && !literal.contains(['*', '?', '['])
            });
        match literal {
            Some(literal) => Pattern::Contains(literal.to_ascii_lowercase().into_bytes()),
            None => {
                let lowered: Vec<char> = pattern.to_lowercase().chars().collect();
                Pattern::Tokens(tokenize(&lowered))
            }
        }
    }

    fn matches(&self, name: &Name<'_>) -> bool {
        match (self, name) {
            (Pattern::Contains(literal), Name::Ascii(bytes)) => bytes
                .windows(literal.len())
                .any(|window| window.eq_ignore_ascii_case(literal)),
            (Pattern::Contains(literal), Name::Chars(chars)) => {
                let literal: Vec<char> = literal.iter().map(|byte| char::from(*byte)).collect();
                chars.windows(literal.len()).any(|window| window == literal)
            }
            (Pattern::Tokens(tokens), Name::Ascii(bytes)) => {
                let chars: Vec<char> = bytes
                    .iter()
                    .map(|byte| char::from(byte.to_ascii_lowercase()))
                    .collect();
                matches_tokens(tokens, &chars)
            }
            (Pattern::Tokens(tokens), Name::Chars(chars)) => matches_tokens(tokens, chars),
        }
    }
}

/// One element of a parsed wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
    /// `[…]`: ranges as (low, high) pairs; `negate` for `[!…]` / `[^…]`.
    Class {
        ranges: Vec<(char, char)>,
        negate: bool,
    },
}

impl Token {
    fn matches(&self, character: char) -> bool {
        match self {
            Token::Literal(expected) => *expected == character,
            Token::AnyOne => true,
            Token::AnyRun => false,
            Token::Class { ranges, negate } => {
                ranges
                    .iter()
                    .any(|(low, high)| (*low..=*high).contains(&character))
                    != *negate
            }
        }
    }
}

/// Parse `*`, `?`, `[…]` (an unclosed `[` is a literal); consecutive `*` collapse.
fn tokenize(pattern: &[char]) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut index = 0;
    while index < pattern.len() {
        match pattern[index] {
            '*' => {
                if tokens.last() != Some(&Token::AnyRun) {
                    tokens.push(Token::AnyRun);
                }
                index += 1;
            }
            '?' => {
                tokens.push(Token::AnyOne);
                index += 1;
            }
            '[' => match pattern[index + 1..].iter().position(|c| *c == ']') {
                None => {
                    tokens.push(Token::Literal('['));
                    index += 1;
                }
                Some(offset) => {
                    let body = &pattern[index + 1..index + 1 + offset];
                    let (negate, class) = match body.split_first() {
                        Some(('!' | '^', class)) => (true, class),
                        _ => (false, body),
                    };
                    let mut ranges = Vec::new();
                    let mut position = 0;
                    while position < class.len() {
                        if position + 2 < class.len() && class[position + 1] == '-' {
                            ranges.push((class[position], class[position + 2]));
                            position += 3;
                        } else {
                            ranges.push((class[position], class[position]));
                            position += 1;
                        }
                    }
                    tokens.push(Token::Class { ranges, negate });
                    index += offset + 2;
                }
            },
            literal => {
                tokens.push(Token::Literal(literal));
                index += 1;
            }
        }
    }
    tokens
}

/// Case-insensitive glob match of the whole `text` (the general path of [`Pattern`]).
#[cfg(test)]
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let name = OsString::from(text);
    Pattern::new(pattern).matches(&Name::new(&name))
}

/// Whether lowercased `tokens` match the whole lowercased `text`.
///
/// Greedy matching that, on a mismatch, backtracks only to the most recent `*` (the classic
/// wildcard algorithm): O(pattern × text) in the worst case, never exponential.
fn matches_tokens(tokens: &[Token], text: &[char]) -> bool {
    let (mut token, mut position) = (0usize, 0usize);
    // The token after the last `*` seen and the text position that `*` currently ends at.
    let mut backtrack: Option<(usize, usize)> = None;
    while position < text.len() {
        match tokens.get(token) {
            Some(Token::AnyRun) => {
                token += 1;
                backtrack = Some((token, position));
            }
            Some(current) if current.matches(text[position]) => {
                token += 1;
                position += 1;
            }
            _ => match backtrack {
                Some((after_star, star_end)) => {
                    token = after_star;
                    position = star_end + 1;
                    backtrack = Some((after_star, star_end + 1));
                }
                None => return false,
            },
        }
    }
    tokens[token..].iter().all(|token| *token == Token::AnyRun)
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
    fn secrets_are_dropped_unless_named_set_or_allowed() {
        let parent = vars(&[
            ("PATH", "/bin"),
            ("DB_PASSWORD", "p"),
            ("MOCK_AUTH", "m"),
            ("CODEX_API_KEY", "c"),
            ("CODEX_ACCESS_TOKEN", "t"),
        ]);
        assert_eq!(
            policy("").create_env_without_secrets(parent.clone(), &["MOCK_AUTH"]),
            vars(&[("PATH", "/bin")])
        );
        assert_eq!(
            policy("include_only = ['*']")
                .create_env_without_secrets(parent.clone(), &["MOCK_AUTH"]),
            vars(&[("PATH", "/bin")]),
            "a wildcard never admits a secret"
        );
        assert_eq!(
            policy("include_only = ['PATH', 'mock_auth', 'DB_PASSWORD']")
                .create_env_without_secrets(parent.clone(), &["MOCK_AUTH"]),
            vars(&[("DB_PASSWORD", "p"), ("MOCK_AUTH", "m"), ("PATH", "/bin")])
        );
        assert_eq!(
            policy("set = { CODEX_API_KEY = 'given' }")
                .create_env_without_secrets(parent.clone(), &["MOCK_AUTH"]),
            vars(&[("CODEX_API_KEY", "given"), ("PATH", "/bin")])
        );
        assert_eq!(
            policy("ignore_default_excludes = true")
                .create_env_without_secrets(parent.clone(), &["MOCK_AUTH"])
                .len(),
            parent.len()
        );
    }

    /// Red-team finding: credentials under the usual names that none of `*KEY*`, `*SECRET*`,
    /// `*TOKEN*`, `*PASSWORD*` match (AWS session and profile variables, credential files,
    /// passphrases, personal access tokens, the SSH agent socket) reached sandboxed commands.
    #[test]
    fn usual_secret_names_are_excluded_by_default() {
        let secrets = [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "aws_shared_credentials_file",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "AZURE_CLIENT_SECRET",
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "NPM_TOKEN",
            "ANTHROPIC_API_KEY",
            "DOCKER_AUTH_CONFIG_PASSWD",
            "GPG_PASSPHRASE",
            "AZURE_DEVOPS_EXT_PAT",
            "MYSQL_PWD",
            "SSH_AUTH_SOCK",
            "GPG_AGENT_INFO",
            "KRB5CCNAME",
        ];
        let harmless = ["PATH", "PWD", "OLDPWD", "PATHEXT", "SSH_TTY", "EDITOR"];
        let parent: Vec<(OsString, OsString)> = secrets
            .iter()
            .chain(&harmless)
            .map(|name| (OsString::from(name), OsString::from("v")))
            .collect();
        let kept: Vec<String> = policy("")
            .create_env(parent.clone())
            .into_iter()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        let mut expected: Vec<String> = harmless.iter().map(|name| name.to_string()).collect();
        expected.sort();
        assert_eq!(kept, expected);
        assert_eq!(
            policy("ignore_default_excludes = true")
                .create_env(parent.clone())
                .len(),
            parent.len()
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

    /// The `*LITERAL*` fast path agrees with the general matcher, including names whose
    /// lowercase form differs from an ASCII lowering.
    #[test]
    fn substring_fast_path_matches_like_the_general_path() {
        let general = |pattern: &str, text: &str| {
            let lowered: Vec<char> = pattern.to_lowercase().chars().collect();
            let text: Vec<char> = text.to_lowercase().chars().collect();
            matches_tokens(&tokenize(&lowered), &text)
        };
        let names = [
            "OPENAI_API_KEY",
            "key",
            "KE",
            "MONKEY_BUSINESS",
            "github_Token",
            "\u{212A}EY",
            "SECR\u{0130}T",
            "ÄKEYÖ",
            "",
            "PATH",
        ];
        for pattern in ["*KEY*", "*SECRET*", "*TOKEN*", "*k*", "*ey*"] {
            assert!(
                matches!(Pattern::new(pattern), Pattern::Contains(_)),
                "{pattern}"
            );
            for name in names {
                assert_eq!(
                    glob_matches(pattern, name),
                    general(pattern, name),
                    "{pattern} vs {name:?}"
                );
            }
        }
        assert!(
            glob_matches("*KEY*", "\u{212A}EY"),
            "Kelvin sign lowercases to k"
        );
        assert!(matches!(Pattern::new("*a?b*"), Pattern::Tokens(_)));
        assert!(matches!(Pattern::new("**"), Pattern::Tokens(_)));
    }

    #[test]
    fn glob_matching() {
        assert!(glob_matches("*key*", "OPENAI_API_KEY"));
        assert!(glob_matches("a?c", "ABC"));
        assert!(glob_matches("[a-c]x", "bx"));
        assert!(!glob_matches("[!a-c]x", "bx"));
        assert!(!glob_matches("abc", "abcd"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*", "a"));
        assert!(!glob_matches("a?", "a"));
        assert!(glob_matches("*x*y", "axbxy"));
        assert!(glob_matches("[ab", "[ab"));
        assert!(glob_matches("**b", "aab"));
        assert!(!glob_matches("*b", "aba"));
        assert!(glob_matches("a*[0-9]", "abc7"));
    }

    /// Regression: patterns with many `*` took exponential time.
    #[test]
    fn many_wildcards_match_in_linear_time() {
        let text = "a".repeat(10_000);
        let start = std::time::Instant::now();
        assert!(!glob_matches("*a*a*a*a*a*a*a*a*a*a*a*a*b", &text));
        assert!(glob_matches("*a*a*a*a*a*a*a*a*a*a*a*a*", &text));
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
    }
}
