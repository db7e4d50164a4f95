//! Git-style deny globs translated into anchored Seatbelt regular expressions.
//!
//! | glob            | regex                       |
//! |-----------------|-----------------------------|
//! | `*`             | `[^/]*` (never crosses `/`) |
//! | `?`             | `[^/]`                      |
//! | `**/`           | `(.*/)?` (zero or more dirs)|
//! | `**` elsewhere  | `.*`                        |
//! | `[abc]`, `[a-z]`| kept                        |
//! | `[!a]`, `[^a]`  | `[^a/]`                     |
//! | unclosed `[`    | a literal `[`               |
//! | `\x`            | a literal `x`               |
//!
//! Every regex is anchored (`^…$`) and ends in `(/.*)?`: a denied match that is a directory
//! denies its whole subtree, like a denied path. These regexes are only ever used in *deny*
//! rules, so where a character cannot be written inside an SBPL regex literal (`"`, control
//! characters) it becomes `[^/]`, which denies slightly more, never less.

/// The part of `pattern` before its first glob character, cut back to a directory boundary, and
/// the rest (starting with `/`). A glob-free pattern is all prefix.
pub(crate) fn split_static_prefix(pattern: &str) -> (&str, &str) {
    let Some(first_special) = pattern.find(['*', '?', '[', '\\']) else {
        return (pattern, "");
    };
    match pattern[..first_special].rfind('/') {
        Some(slash) => pattern.split_at(slash),
        None => ("", pattern),
    }
}

/// The anchored regex for `literal_prefix` (a plain path, no glob syntax) followed by `glob`.
pub(crate) fn to_regex(literal_prefix: &str, glob: &str) -> String {
    // `/` as a prefix is the empty prefix: the subtree suffix supplies the slash.
    let literal_prefix = if literal_prefix == "/" {
        ""
    } else {
        literal_prefix
    };
    let mut regex = String::from("^");
    for character in literal_prefix.chars() {
        push_literal(&mut regex, character);
    }
    translate(&mut regex, glob);
    regex.push_str("(/.*)?$");
    regex
}

/// Drop trailing slashes (a git "directory only" marker): the subtree suffix covers directories.
pub(crate) fn trim_trailing_slashes(pattern: &str) -> &str {
    let trimmed = pattern.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

fn translate(regex: &mut String, glob: &str) {
    let characters: Vec<char> = glob.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        match characters[index] {
            '*' => {
                let mut end = index;
                while end < characters.len() && characters[end] == '*' {
                    end += 1;
                }
                if end - index == 1 {
                    regex.push_str("[^/]*");
                } else if characters.get(end) == Some(&'/') {
                    regex.push_str("(.*/)?");
                    end += 1;
                } else {
                    regex.push_str(".*");
                }
                index = end;
            }
            '?' => {
                regex.push_str("[^/]");
                index += 1;
            }
            '[' => match character_class(&characters[index..]) {
                Some((class, consumed)) => {
                    regex.push_str(&class);
                    index += consumed;
                }
                None => {
                    push_literal(regex, '[');
                    index += 1;
                }
            },
            '\\' => {
                match characters.get(index + 1) {
                    Some(&escaped) => push_literal(regex, escaped),
                    None => push_literal(regex, '\\'),
                }
                index += 2;
            }
            other => {
                push_literal(regex, other);
                index += 1;
            }
        }
    }
}

/// Parse a bracket expression starting at `characters[0] == '['`. Returns the regex class and the
/// number of glob characters consumed, or `None` when the bracket is never closed.
fn character_class(characters: &[char]) -> Option<(String, usize)> {
    let mut index = 1;
    let negated = matches!(characters.get(index), Some('!' | '^'));
    if negated {
        index += 1;
    }
    let body_start = index;
    // A `]` right after the opening (or after the negation) is a member, not the end.
    if characters.get(index) == Some(&']') {
        index += 1;
    }
    loop {
        match characters.get(index)? {
            ']' => break,
            '[' if characters.get(index + 1) == Some(&':') => {
                // A POSIX class such as `[:alpha:]` runs to its own `:]`.
                let close = (index + 2..characters.len().saturating_sub(1))
                    .find(|&at| characters[at] == ':' && characters[at + 1] == ']')?;
                index = close + 2;
            }
            _ => index += 1,
        }
    }
    let body: String = characters[body_start..index].iter().collect();
    let consumed = index + 1;
    if body
        .chars()
        .any(|character| character == '"' || character == '\\' || character.is_control())
    {
        // Not expressible inside an SBPL regex literal: widen to any single character.
        return Some(("[^/]".to_string(), consumed));
    }
    let class = if negated {
        format!("[^{body}/]")
    } else {
        format!("[{body}]")
    };
    Some((class, consumed))
}

fn push_literal(regex: &mut String, character: char) {
    match character {
        '"' => regex.push_str("[^/]"),
        control if control.is_control() => regex.push_str("[^/]"),
        '.' | '^' | '$' | '|' | '(' | ')' | '[' | ']' | '{' | '}' | '*' | '+' | '?' | '\\' => {
            regex.push('\\');
            regex.push(character);
        }
        plain => regex.push(plain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex_for(pattern: &str) -> String {
        to_regex("", pattern)
    }

    #[test]
    fn translation_table() {
        let cases = [
            ("/repo/*.env", r"^/repo/[^/]*\.env(/.*)?$"),
            ("/repo/?.key", r"^/repo/[^/]\.key(/.*)?$"),
            ("/repo/**/*.pem", r"^/repo/(.*/)?[^/]*\.pem(/.*)?$"),
            ("/repo/secrets/**", r"^/repo/secrets/.*(/.*)?$"),
            ("/repo/a**b", r"^/repo/a.*b(/.*)?$"),
            ("/repo/id_[rd]sa", r"^/repo/id_[rd]sa(/.*)?$"),
            ("/repo/[a-z]x", r"^/repo/[a-z]x(/.*)?$"),
            ("/repo/[!a]x", r"^/repo/[^a/]x(/.*)?$"),
            ("/repo/[^a]x", r"^/repo/[^a/]x(/.*)?$"),
            ("/repo/[]a]x", r"^/repo/[]a]x(/.*)?$"),
            ("/repo/[[:digit:]]x", r"^/repo/[[:digit:]]x(/.*)?$"),
            ("/repo/[abc", r"^/repo/\[abc(/.*)?$"),
            ("/repo/a[", r"^/repo/a\[(/.*)?$"),
            ("/repo/.env", r"^/repo/\.env(/.*)?$"),
            ("/repo/a+b(c)|{d}$^", r"^/repo/a\+b\(c\)\|\{d\}\$\^(/.*)?$"),
            (r"/repo/lit\*eral", r"^/repo/lit\*eral(/.*)?$"),
            ("/repo/quo\"te", r"^/repo/quo[^/]te(/.*)?$"),
            ("/repo/[\"x]", r"^/repo/[^/](/.*)?$"),
        ];
        for (glob, expected) in cases {
            assert_eq!(regex_for(glob), expected, "glob {glob}");
        }
    }

    #[test]
    fn glob_free_pattern_is_the_path_and_its_subtree() {
        assert_eq!(split_static_prefix("/repo/secret"), ("/repo/secret", ""));
        assert_eq!(to_regex("/repo/secret", ""), r"^/repo/secret(/.*)?$");
    }

    #[test]
    fn static_prefix_stops_at_the_directory_before_the_first_glob_character() {
        assert_eq!(
            split_static_prefix("/var/folders/**/id_*"),
            ("/var/folders", "/**/id_*")
        );
        assert_eq!(split_static_prefix("/*.env"), ("", "/*.env"));
        assert_eq!(split_static_prefix("/a/b[c]/d"), ("/a", "/b[c]/d"));
        assert_eq!(
            to_regex("/private/var/folders", "/**/id_*"),
            r"^/private/var/folders/(.*/)?id_[^/]*(/.*)?$"
        );
    }

    #[test]
    fn root_pattern_denies_everything() {
        assert_eq!(split_static_prefix("/"), ("/", ""));
        assert_eq!(to_regex("/", ""), r"^(/.*)?$");
        assert_eq!(to_regex("", "/**"), r"^/.*(/.*)?$");
    }

    #[test]
    fn trailing_slashes_are_dropped() {
        assert_eq!(trim_trailing_slashes("/repo/build/"), "/repo/build");
        assert_eq!(trim_trailing_slashes("/"), "/");
    }
}
