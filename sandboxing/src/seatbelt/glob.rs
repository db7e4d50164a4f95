//! Git-style deny globs translated into anchored Seatbelt regular expressions.
//!
//! | glob            | regex                       |
//! |-----------------|-----------------------------|
//! | `*`             | `[^/]*` (never crosses `/`) |
//! | `?`             | `[^/]`                      |
//! | `**/`           | `(.*/)?` (zero or more dirs)|
//! | `**` elsewhere  | `.*`                        |
//! | `[abc]`, `[a-z]`| kept                        |
//! | `[!a]`, `[^a]`  | `[^/a]`                     |
//! | unclosed `[`    | a literal `[`               |
//! | `\x`            | a literal `x`               |
//!
//! Every regex is anchored (`^…$`) and ends in `(/.*)?`: a denied match that is a directory
//! denies its whole subtree, like a denied path. These regexes are only ever used in *deny*
//! rules, so where a character cannot be written inside an SBPL regex literal (`"`, ASCII
//! control characters) it becomes `[^/]`, which denies slightly more, never less. A bracket
//! expression the regex engine might reject or read differently (a reversed range, an unknown
//! `[:class:]`, a stray `[`) is widened the same way. A bracket expression with non-ASCII
//! members is refused: a byte-oriented engine would match a single byte of a multi-byte
//! character, denying less than asked.
//!
//! Known limitation: `?`, `*` and bracket expressions are written for characters. If Seatbelt's
//! engine matches bytes, `?` and a negated bracket expression match one byte of a multi-byte
//! (non-ASCII) character only, so `/repo/?.key` would not deny `é.key`. `*` and literal
//! characters are exact either way.
//!
//! [`escape_literal`] is the one way a path enters any regex of the profile.

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

/// `text` matched literally: every regex metacharacter escaped, `"` and ASCII control
/// characters (which cannot appear in an SBPL regex literal) widened to `[^/]`.
pub(crate) fn escape_literal(text: &str) -> String {
    let mut regex = String::with_capacity(text.len());
    for character in text.chars() {
        push_literal(&mut regex, character);
    }
    regex
}

/// The anchored regex for `literal_prefix` (a plain path, no glob syntax) followed by `glob`;
/// `Err` with the reason when the glob cannot be translated faithfully.
pub(crate) fn to_regex(literal_prefix: &str, glob: &str) -> Result<String, String> {
    // `/` as a prefix is the empty prefix: the subtree suffix supplies the slash.
    let literal_prefix = if literal_prefix == "/" {
        ""
    } else {
        literal_prefix
    };
    let mut regex = String::from("^");
    regex.push_str(&escape_literal(literal_prefix));
    translate(&mut regex, glob)?;
    regex.push_str("(/.*)?$");
    Ok(regex)
}

/// Drop trailing slashes (a git "directory only" marker): the subtree suffix covers directories.
pub(crate) fn trim_trailing_slashes(pattern: &str) -> &str {
    let trimmed = pattern.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

fn translate(regex: &mut String, glob: &str) -> Result<(), String> {
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
            '[' => match character_class(&characters[index..])? {
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
    Ok(())
}

/// Parse a bracket expression starting at `characters[0] == '['`. Returns the regex class and the
/// number of glob characters consumed, `None` when the bracket is never closed, `Err` when it
/// has non-ASCII members.
fn character_class(characters: &[char]) -> Result<Option<(String, usize)>, String> {
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
        match characters.get(index) {
            None => return Ok(None),
            Some(']') => break,
            Some('[') if matches!(characters.get(index + 1), Some(':' | '.' | '=')) => {
                // A POSIX class such as `[:alpha:]` (or a collating element `[.a.]`, an
                // equivalence class `[=a=]`) runs to its own `:]` (`.]`, `=]`).
                let delimiter = characters[index + 1];
                let Some(close) = (index + 2..characters.len().saturating_sub(1))
                    .find(|&at| characters[at] == delimiter && characters[at + 1] == ']')
                else {
                    return Ok(None);
                };
                index = close + 2;
            }
            Some(_) => index += 1,
        }
    }
    let body = &characters[body_start..index];
    let consumed = index + 1;
    if body.iter().any(|character| !character.is_ascii()) {
        return Err(format!(
            "the bracket expression `{}` has non-ASCII members",
            characters[..consumed].iter().collect::<String>()
        ));
    }
    if !is_plain_class_body(body) {
        // Not expressible (or not portable) inside an SBPL regex literal: widen to any single
        // character.
        return Ok(Some(("[^/]".to_string(), consumed)));
    }
    let body: String = body.iter().collect();
    let class = if !negated {
        format!("[{body}]")
    } else if let Some(rest) = body.strip_prefix(']') {
        // A leading `]` must stay first to be a member.
        format!("[^]/{rest}]")
    } else {
        // `/` first: after a trailing `-` it would form a range.
        format!("[^/{body}]")
    };
    Ok(Some((class, consumed)))
}

/// POSIX character classes every regex engine knows.
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
    "upper", "xdigit",
];

/// True when `body` (ASCII) can be copied into a regex bracket expression as is: no `"`, `\`
/// or control character, `[` only to open a known `[:class:]`, and ranges between two plain
/// characters in ascending order.
fn is_plain_class_body(body: &[char]) -> bool {
    enum Item {
        Character(char),
        Class,
    }
    let mut items: Vec<Item> = Vec::new();
    let mut index = 0;
    while index < body.len() {
        match body[index] {
            '"' | '\\' => return false,
            control if control.is_control() => return false,
            '[' => {
                if body.get(index + 1) != Some(&':') {
                    return false;
                }
                let Some(close) = (index + 2..body.len().saturating_sub(1))
                    .find(|&at| body[at] == ':' && body[at + 1] == ']')
                else {
                    return false;
                };
                let name: String = body[index + 2..close].iter().collect();
                if !POSIX_CLASSES.contains(&name.as_str()) {
                    return false;
                }
                items.push(Item::Class);
                index = close + 2;
            }
            character => {
                items.push(Item::Character(character));
                index += 1;
            }
        }
    }
    let mut position = 0;
    while position < items.len() {
        let is_range =
            position + 2 < items.len() && matches!(items[position + 1], Item::Character('-'));
        if !is_range {
            position += 1;
            continue;
        }
        match (&items[position], &items[position + 2]) {
            (Item::Character(start), Item::Character(end)) if start <= end => position += 3,
            _ => return false,
        }
    }
    true
}

fn push_literal(regex: &mut String, character: char) {
    match character {
        // One byte each, so `[^/]` stands for exactly one of them. Non-ASCII characters
        // (control or not) are kept as they are: their bytes match themselves.
        '"' => regex.push_str("[^/]"),
        control if control.is_ascii_control() => regex.push_str("[^/]"),
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
        to_regex("", pattern).unwrap()
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
            ("/repo/[!a]x", r"^/repo/[^/a]x(/.*)?$"),
            ("/repo/[^a]x", r"^/repo/[^/a]x(/.*)?$"),
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
        assert_eq!(
            to_regex("/repo/secret", "").unwrap(),
            r"^/repo/secret(/.*)?$"
        );
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
            to_regex("/private/var/folders", "/**/id_*").unwrap(),
            r"^/private/var/folders/(.*/)?id_[^/]*(/.*)?$"
        );
    }

    #[test]
    fn root_pattern_denies_everything() {
        assert_eq!(split_static_prefix("/"), ("/", ""));
        assert_eq!(to_regex("/", "").unwrap(), r"^(/.*)?$");
        assert_eq!(to_regex("", "/**").unwrap(), r"^/.*(/.*)?$");
    }

    #[test]
    fn trailing_slashes_are_dropped() {
        assert_eq!(trim_trailing_slashes("/repo/build/"), "/repo/build");
        assert_eq!(trim_trailing_slashes("/"), "/");
    }

    /// Regression: every regex metacharacter of a path is escaped, a character that cannot be
    /// written in an SBPL regex literal only widens the match, and non-ASCII characters (even
    /// control ones) stay exact.
    #[test]
    fn literal_escaping_is_complete() {
        assert_eq!(
            escape_literal(r"/a.b^c$d|e(f)g[h]i{j}k*l+m?n\o"),
            r"/a\.b\^c\$d\|e\(f\)g\[h\]i\{j\}k\*l\+m\?n\\o"
        );
        assert_eq!(escape_literal("/q\"x\ny\u{7f}"), "/q[^/]x[^/]y[^/]");
        assert_eq!(escape_literal("/caf\u{e9}/\u{85}"), "/caf\u{e9}/\u{85}");
        let hostile = "/a\"b(c)\n#\"x";
        let regex = to_regex(hostile, "").unwrap();
        assert!(!regex.contains('"') && !regex.contains('\n'), "{regex}");
        assert!(super::super::regex_matcher::is_match(&regex, hostile));
    }

    /// Regression: bracket expressions the engine could reject or misread are widened, a
    /// trailing `-` in a negated class no longer forms a range with `/`, and non-ASCII members
    /// are refused.
    #[test]
    fn bracket_expressions_are_validated() {
        let cases = [
            ("/r/[z-a]", r"^/r/[^/](/.*)?$"),
            ("/r/[[:nope:]]", r"^/r/[^/](/.*)?$"),
            ("/r/[[.a.]]", r"^/r/[^/](/.*)?$"),
            ("/r/[a[b]", r"^/r/[^/](/.*)?$"),
            ("/r/[[:alpha:]-z]", r"^/r/[^/](/.*)?$"),
            ("/r/[!a-]x", r"^/r/[^/a-]x(/.*)?$"),
            ("/r/[!]a]x", r"^/r/[^]/a]x(/.*)?$"),
            ("/r/[a-z0-9_]", r"^/r/[a-z0-9_](/.*)?$"),
        ];
        for (glob, expected) in cases {
            assert_eq!(regex_for(glob), expected, "glob {glob}");
        }
        let negated = regex_for("/r/[!a-]x");
        assert!(super::super::regex_matcher::is_match(&negated, "/r/.x"));
        assert!(!super::super::regex_matcher::is_match(&negated, "/r/-x"));
        assert!(to_regex("", "/r/[\u{e9}]").is_err());
    }
}
