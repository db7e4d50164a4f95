//! Deny globs (parsed once into [`DenyGlob`], the one grammar of every backend) translated into
//! anchored Seatbelt regular expressions, segment by segment:
//!
//! | glob segment    | regex                         |
//! |-----------------|-------------------------------|
//! | `**`            | `(/.*)?` (zero or more dirs; a trailing `**`: `/.*`, what is inside) |
//! | `*`             | `[^/]*` (never crosses `/`)   |
//! | `?`             | `[^/]`                        |
//! | `[abc]`, `[a-z]`| kept                          |
//! | `[!a]`, `[^a]`  | `[^/a]`                       |
//! | `\x`            | a literal `x`                 |
//!
//! Invalid patterns (an unclosed `[`, a reversed range, non-ASCII class members) never get
//! here: the policy refuses them when it is built.
//!
//! Every regex is anchored (`^…$`) and ends in `(/.*)?`: a denied match that is a directory
//! denies its whole subtree, like a denied path. These regexes are only ever used in *deny*
//! rules, so where a character cannot be written inside an SBPL regex literal (`"`, `\\`,
//! ASCII control characters) it becomes `[^/]` (a whole class with such a member too), which
//! denies slightly more, never less.
//!
//! Known limitation: `?`, `*` and bracket expressions are written for characters. If Seatbelt's
//! engine matches bytes, `?` and a negated bracket expression match one byte of a multi-byte
//! (non-ASCII) character only, so `/repo/?.key` would not deny `é.key`. `*` and literal
//! characters are exact either way.
//!
//! [`escape_literal`] is the one way a path enters any regex of the profile.

use codex_sandbox_policy::glob::{Class, ClassItem, DenyGlob, Segment, Token};

/// The anchored regex for a deny glob whose base is spelled `base` (as written, or canonical),
/// translated from its parsed segments.
pub(crate) fn to_regex(base: &str, glob: &DenyGlob) -> String {
    // `/` as a base is the empty prefix: every segment supplies its own slash.
    let base = if base == "/" { "" } else { base };
    let mut regex = String::from("^");
    regex.push_str(&escape_literal(base));
    let last = glob.segments().len().saturating_sub(1);
    for (index, segment) in glob.segments().iter().enumerate() {
        match segment {
            // A trailing `**` matches what is inside, not the directory itself (git).
            Segment::AnyDepth if index == last => regex.push_str("/.*"),
            Segment::AnyDepth => regex.push_str("(/.*)?"),
            Segment::Literal(bytes) => {
                regex.push('/');
                regex.push_str(&escape_literal(&String::from_utf8_lossy(bytes)));
            }
            Segment::Pattern(tokens) => {
                regex.push('/');
                for token in tokens {
                    match token {
                        Token::Star => regex.push_str("[^/]*"),
                        Token::Question => regex.push_str("[^/]"),
                        Token::Literal(character) => push_literal(&mut regex, *character),
                        Token::Class(class) => regex.push_str(&class_regex(class)),
                    }
                }
            }
        }
    }
    regex.push_str("(/.*)?$");
    regex
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

/// A bracket expression as a regex class. Members that cannot be written inside an SBPL regex
/// literal (`"`, `\`, control characters) widen the class to any character but `/` (a deny rule
/// only ever denies more). A negated class never matches `/`.
fn class_regex(class: &Class) -> String {
    let mut close_bracket = false;
    let mut caret = false;
    let mut dash = false;
    let mut body = String::new();
    for item in &class.items {
        match item {
            ClassItem::Character(byte) => match *byte {
                b']' => close_bracket = true,
                b'^' => caret = true,
                b'-' => dash = true,
                b'"' | b'\\' => return "[^/]".to_string(),
                byte if byte.is_ascii_control() => return "[^/]".to_string(),
                byte => body.push(char::from(byte)),
            },
            ClassItem::Range(low, high) => {
                let plain = |byte: u8| {
                    !byte.is_ascii_control()
                        && !matches!(byte, b'"' | b'\\' | b']' | b'^' | b'-' | b'[')
                };
                if !plain(*low) || !plain(*high) {
                    return "[^/]".to_string();
                }
                body.push(char::from(*low));
                body.push('-');
                body.push(char::from(*high));
            }
            ClassItem::Posix(posix) => {
                body.push_str("[:");
                body.push_str(posix.name());
                body.push_str(":]");
            }
        }
    }
    let mut regex = String::from("[");
    if class.negated {
        regex.push('^');
    }
    // `]` first to be a member, then the rest, `^` not first, `-` last.
    if close_bracket {
        regex.push(']');
    }
    if class.negated {
        regex.push('/');
    }
    regex.push_str(&body);
    if caret {
        regex.push('^');
    }
    if dash {
        regex.push('-');
    }
    regex.push(']');
    regex
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
        let glob = DenyGlob::parse(pattern).unwrap();
        to_regex(glob.base().to_str().unwrap(), &glob)
    }

    #[test]
    fn translation_table() {
        let cases = [
            ("/repo/*.env", r"^/repo/[^/]*\.env(/.*)?$"),
            ("/repo/?.key", r"^/repo/[^/]\.key(/.*)?$"),
            ("/repo/**/*.pem", r"^/repo(/.*)?/[^/]*\.pem(/.*)?$"),
            ("/repo/secrets/**", r"^/repo/secrets/.*(/.*)?$"),
            // `**` not alone in its segment is a `*` (git): it never crosses `/`.
            ("/repo/a**b", r"^/repo/a[^/]*b(/.*)?$"),
            ("/repo/id_[rd]sa", r"^/repo/id_[rd]sa(/.*)?$"),
            ("/repo/[a-z]x", r"^/repo/[a-z]x(/.*)?$"),
            ("/repo/[!a]x", r"^/repo/[^/a]x(/.*)?$"),
            ("/repo/[^a]x", r"^/repo/[^/a]x(/.*)?$"),
            ("/repo/[]a]x", r"^/repo/[]a]x(/.*)?$"),
            ("/repo/[!]a]x", r"^/repo/[^]/a]x(/.*)?$"),
            ("/repo/[!a-]x", r"^/repo/[^/a-]x(/.*)?$"),
            ("/repo/[[:digit:]]x", r"^/repo/[[:digit:]]x(/.*)?$"),
            ("/repo/x/*.e+v", r"^/repo/x/[^/]*\.e\+v(/.*)?$"),
            (r"/repo/lit\*eral", r"^/repo/lit\*eral(/.*)?$"),
            ("/repo/quo\"te*", r"^/repo/quo[^/]te[^/]*(/.*)?$"),
            ("/repo/[\"x]", r"^/repo/[^/](/.*)?$"),
            ("/**/*.pem", r"^(/.*)?/[^/]*\.pem(/.*)?$"),
        ];
        for (glob, expected) in cases {
            assert_eq!(regex_for(glob), expected, "glob {glob}");
        }
    }

    /// The regexes deny exactly what the shared matcher denies (a directory match denies its
    /// subtree), for a sample of paths.
    #[test]
    fn regexes_agree_with_the_shared_matcher() {
        let patterns = [
            "/r/**/*.env",
            "/r/*.pem",
            "/r/[!a]x/*",
            "/r/a**b",
            "/r/k/**",
            "/**/id_*",
        ];
        let paths = [
            "/r/.env",
            "/r/a/b/x.env",
            "/r/x.pem",
            "/r/s/x.pem",
            "/r/bx/f",
            "/r/ax/f",
            "/r/axxb",
            "/r/a/x/b",
            "/r/k",
            "/r/k/z",
            "/home/u/.ssh/id_rsa",
            "/r/id_x/inner",
            "/r/other",
        ];
        for pattern in patterns {
            let glob = DenyGlob::parse(pattern).unwrap();
            let regex = to_regex(glob.base().to_str().unwrap(), &glob);
            for path in paths {
                assert_eq!(
                    super::super::regex_matcher::is_match(&regex, path),
                    glob.denies(std::path::Path::new(path)),
                    "{pattern} on {path} ({regex})"
                );
            }
        }
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
    }
}
