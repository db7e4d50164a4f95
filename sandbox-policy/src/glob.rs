//! Deny globs: parsed once, when the policy is built, and consumed by every backend (the
//! bubblewrap expander walks [`DenyGlob::base`] and tests entries with
//! [`DenyGlob::matches_below_base`]; the Seatbelt profile translates [`DenyGlob::segments`] into a
//! regex; the apply_patch guard asks [`DenyGlob::denies`]).
//!
//! Grammar (git style, on absolute paths):
//! - `/` separates segments; a trailing `/` is dropped (a match denies its whole subtree anyway);
//! - a segment that is exactly `**` matches zero or more directories;
//! - inside a segment: `*` any run of characters (never `/`; `**` not alone in its segment is a
//!   `*`, as in git), `?` one character, `[…]` one character of a class (`!` or `^` negates;
//!   ranges `a-z`; `[:alpha:]`-style POSIX classes; a `]` first is a member), `\x` the character
//!   `x`;
//! - `.` and `..` segments are refused, an unclosed `[` is refused, a class with non-ASCII members
//!   is refused (one grammar for every backend: an error, never a different match).
//!
//! A path is denied when it, or any of its ancestors, matches: a matching directory denies
//! everything below it.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed, validated deny glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyGlob {
    text: String,
    /// The literal directories before the first segment with a wildcard.
    base: PathBuf,
    /// The segments after `base` (the first one has a wildcard or is `**`).
    segments: Vec<Segment>,
}

/// One path segment of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Matches exactly these bytes.
    Literal(Vec<u8>),
    /// Matches one segment by wildcards.
    Pattern(Vec<Token>),
    /// `**`: zero or more segments.
    AnyDepth,
}

/// One element of a wildcard segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// One literal character (UTF-8 bytes).
    Literal(char),
    /// `*`.
    Star,
    /// `?`.
    Question,
    /// `[…]`.
    Class(Class),
}

/// A bracket expression (ASCII members only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub negated: bool,
    pub items: Vec<ClassItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassItem {
    Character(u8),
    /// Inclusive, `low <= high`.
    Range(u8, u8),
    Posix(PosixClass),
}

/// The POSIX classes every regex engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosixClass {
    Alnum,
    Alpha,
    Blank,
    Cntrl,
    Digit,
    Graph,
    Lower,
    Print,
    Punct,
    Space,
    Upper,
    Xdigit,
}

impl PosixClass {
    const ALL: [(&'static str, PosixClass); 12] = [
        ("alnum", PosixClass::Alnum),
        ("alpha", PosixClass::Alpha),
        ("blank", PosixClass::Blank),
        ("cntrl", PosixClass::Cntrl),
        ("digit", PosixClass::Digit),
        ("graph", PosixClass::Graph),
        ("lower", PosixClass::Lower),
        ("print", PosixClass::Print),
        ("punct", PosixClass::Punct),
        ("space", PosixClass::Space),
        ("upper", PosixClass::Upper),
        ("xdigit", PosixClass::Xdigit),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, class)| *class == self)
            .map_or("", |(name, _)| name)
    }

    fn contains(self, byte: u8) -> bool {
        match self {
            PosixClass::Alnum => byte.is_ascii_alphanumeric(),
            PosixClass::Alpha => byte.is_ascii_alphabetic(),
            PosixClass::Blank => byte == b' ' || byte == b'\t',
            PosixClass::Cntrl => byte.is_ascii_control(),
            PosixClass::Digit => byte.is_ascii_digit(),
            PosixClass::Graph => byte.is_ascii_graphic(),
            PosixClass::Lower => byte.is_ascii_lowercase(),
            PosixClass::Print => byte.is_ascii_graphic() || byte == b' ',
            PosixClass::Punct => byte.is_ascii_punctuation(),
            PosixClass::Space => byte.is_ascii_whitespace() || byte == 0x0b,
            PosixClass::Upper => byte.is_ascii_uppercase(),
            PosixClass::Xdigit => byte.is_ascii_hexdigit(),
        }
    }
}

/// Why a pattern is not a valid deny glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobError {
    pub pattern: String,
    pub reason: String,
}

impl std::fmt::Display for GlobError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "invalid deny glob `{}`: {}",
            self.pattern, self.reason
        )
    }
}

impl std::error::Error for GlobError {}

impl DenyGlob {
    pub fn parse(text: &str) -> Result<DenyGlob, GlobError> {
        let invalid = |reason: &str| GlobError {
            pattern: text.to_string(),
            reason: reason.to_string(),
        };
        if !text.starts_with('/') {
            return Err(invalid("the pattern must be an absolute path"));
        }
        let mut base = PathBuf::from("/");
        let mut segments = Vec::new();
        for part in text.split('/').filter(|part| !part.is_empty()) {
            if part == "." || part == ".." {
                return Err(invalid("`.` and `..` are not allowed"));
            }
            let segment = parse_segment(part).map_err(invalid)?;
            match segment {
                Segment::Literal(bytes) if segments.is_empty() => {
                    base.push(String::from_utf8_lossy(&bytes).as_ref());
                }
                segment => segments.push(segment),
            }
        }
        if segments.is_empty() {
            return Err(invalid(
                "the pattern has no wildcard; use a plain deny path",
            ));
        }
        Ok(DenyGlob {
            text: text.to_string(),
            base,
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The literal directories before the first wildcard segment (`/` when there are none).
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The segments after [`DenyGlob::base`].
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether the path made of `components` below the base matches exactly.
    pub fn matches_below_base(&self, components: &[&[u8]]) -> bool {
        match_segments(&self.segments, components)
    }

    /// Whether something below the directory at `components` (below the base) could match.
    pub fn may_descend(&self, components: &[&[u8]]) -> bool {
        if self.segments.contains(&Segment::AnyDepth) {
            return true;
        }
        components.len() < self.segments.len()
            && components
                .iter()
                .zip(&self.segments)
                .all(|(name, segment)| match_one(segment, name))
    }

    /// Whether `path` (absolute, lexically normalised) is denied: it, or one of its ancestors,
    /// matches.
    pub fn denies(&self, path: &Path) -> bool {
        let Ok(relative) = path.strip_prefix(&self.base) else {
            return false;
        };
        let components: Vec<&[u8]> = relative
            .components()
            .filter_map(|component| match component {
                Component::Normal(name) => Some(name.as_encoded_bytes()),
                _ => None,
            })
            .collect();
        (1..=components.len()).any(|length| self.matches_below_base(&components[..length]))
    }
}

impl Serialize for DenyGlob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DenyGlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DenyGlob::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn parse_segment(part: &str) -> Result<Segment, &'static str> {
    if part == "**" {
        return Ok(Segment::AnyDepth);
    }
    let characters: Vec<char> = part.chars().collect();
    let mut tokens = Vec::new();
    let mut wild = false;
    let mut index = 0;
    while index < characters.len() {
        match characters[index] {
            '*' => {
                while characters.get(index) == Some(&'*') {
                    index += 1;
                }
                tokens.push(Token::Star);
                wild = true;
            }
            '?' => {
                tokens.push(Token::Question);
                wild = true;
                index += 1;
            }
            '[' => {
                let (class, consumed) = parse_class(&characters[index..])?;
                tokens.push(Token::Class(class));
                wild = true;
                index += consumed;
            }
            '\\' => {
                let escaped = *characters.get(index + 1).ok_or("a trailing `\\`")?;
                tokens.push(Token::Literal(escaped));
                wild = true;
                index += 2;
            }
            other => {
                tokens.push(Token::Literal(other));
                index += 1;
            }
        }
    }
    if wild {
        Ok(Segment::Pattern(tokens))
    } else {
        Ok(Segment::Literal(part.as_bytes().to_vec()))
    }
}

/// `[…]` at the start of `characters`: the class and the characters consumed.
fn parse_class(characters: &[char]) -> Result<(Class, usize), &'static str> {
    let mut index = 1;
    let negated = matches!(characters.get(index), Some('!' | '^'));
    if negated {
        index += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let character = *characters.get(index).ok_or("unclosed `[`")?;
        if character == ']' && !first {
            return Ok((Class { negated, items }, index + 1));
        }
        first = false;
        if character == '[' && characters.get(index + 1) == Some(&':') {
            let close = (index + 2..characters.len().saturating_sub(1))
                .find(|&at| characters[at] == ':' && characters[at + 1] == ']')
                .ok_or("unclosed `[:`")?;
            let name: String = characters[index + 2..close].iter().collect();
            let class = PosixClass::ALL
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, class)| *class)
                .ok_or("unknown `[:class:]`")?;
            items.push(ClassItem::Posix(class));
            index = close + 2;
            continue;
        }
        let (low, after) = if character == '\\' {
            (*characters.get(index + 1).ok_or("unclosed `[`")?, index + 2)
        } else {
            (character, index + 1)
        };
        let low = ascii(low)?;
        if characters.get(after) == Some(&'-')
            && characters.get(after + 1).is_some_and(|next| *next != ']')
        {
            let high = ascii(characters[after + 1])?;
            if high < low {
                return Err("a reversed range in `[…]`");
            }
            items.push(ClassItem::Range(low, high));
            index = after + 2;
        } else {
            items.push(ClassItem::Character(low));
            index = after;
        }
    }
}

fn ascii(character: char) -> Result<u8, &'static str> {
    u8::try_from(character)
        .ok()
        .filter(u8::is_ascii)
        .ok_or("a `[…]` class with non-ASCII members")
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
        Segment::Pattern(tokens) => match_tokens(tokens, name),
        Segment::AnyDepth => true,
    }
}

/// The length of the character at the start of `name` (one byte when it is not UTF-8).
fn character_length(name: &[u8]) -> usize {
    let length = match name.first() {
        Some(byte) if *byte < 0x80 => 1,
        Some(byte) if byte >> 5 == 0b110 => 2,
        Some(byte) if byte >> 4 == 0b1110 => 3,
        Some(byte) if byte >> 3 == 0b11110 => 4,
        _ => 1,
    };
    if length <= name.len() && std::str::from_utf8(&name[..length]).is_ok() {
        length
    } else {
        1
    }
}

fn match_tokens(tokens: &[Token], name: &[u8]) -> bool {
    match tokens.split_first() {
        None => name.is_empty(),
        Some((Token::Star, rest)) => {
            let mut offset = 0;
            loop {
                if match_tokens(rest, &name[offset..]) {
                    return true;
                }
                if offset >= name.len() {
                    return false;
                }
                offset += character_length(&name[offset..]);
            }
        }
        Some((Token::Question, rest)) => {
            !name.is_empty() && match_tokens(rest, &name[character_length(name)..])
        }
        Some((Token::Class(class), rest)) => {
            if name.is_empty() {
                return false;
            }
            let length = character_length(name);
            let inside = length == 1
                && class.items.iter().any(|item| match item {
                    ClassItem::Character(member) => *member == name[0],
                    ClassItem::Range(low, high) => (*low..=*high).contains(&name[0]),
                    ClassItem::Posix(posix) => posix.contains(name[0]),
                });
            inside != class.negated && match_tokens(rest, &name[length..])
        }
        Some((Token::Literal(character), rest)) => {
            let mut buffer = [0u8; 4];
            let bytes = character.encode_utf8(&mut buffer).as_bytes();
            name.starts_with(bytes) && match_tokens(rest, &name[bytes.len()..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, relative: &str) -> bool {
        let glob = DenyGlob::parse(pattern).unwrap();
        let components: Vec<&[u8]> = relative
            .split('/')
            .filter(|part| !part.is_empty())
            .map(str::as_bytes)
            .collect();
        glob.matches_below_base(&components)
    }

    #[test]
    fn git_style_wildcards() {
        assert!(matches("/w/**/*.env", ".env"));
        assert!(matches("/w/**/*.env", "a/b/prod.env"));
        assert!(!matches("/w/**/*.env", "a/b/prod.env.bak"));
        assert!(matches("/w/*.pem", "key.pem"));
        assert!(!matches("/w/*.pem", "sub/key.pem"));
        assert!(matches("/w/secret?", "secret1"));
        assert!(matches("/w/secret?", "secreté"), "`?` is one character");
        assert!(matches("/w/[a-c]x", "bx"));
        assert!(!matches("/w/[!a-c]x", "bx"));
        assert!(
            matches("/w/[!a-c]x", "éx"),
            "a negated class takes one character"
        );
        assert!(matches("/w/[]]x", "]x"));
        assert!(matches("/w/[[:digit:]]x", "7x"));
        assert!(matches("/w/a\\*", "a*"));
        assert!(!matches("/w/a\\*", "ab"));
        assert!(matches("/w/keys/**", "nested/deeper/file"));
        // `**` not alone in its segment is a `*` (git): it never crosses `/`.
        assert!(matches("/w/a**b", "axxb"));
        assert!(!matches("/w/a**b", "a/x/b"));
    }

    #[test]
    fn one_grammar_refuses_what_a_backend_could_read_differently() {
        for (pattern, reason) in [
            ("relative/*.env", "the pattern must be an absolute path"),
            ("/w/[abc", "unclosed `[`"),
            (
                "/w/plain",
                "the pattern has no wildcard; use a plain deny path",
            ),
            ("/w/../*.env", "`.` and `..` are not allowed"),
            ("/w/[z-a]", "a reversed range in `[…]`"),
            ("/w/[é]", "a `[…]` class with non-ASCII members"),
            ("/w/[[:nope:]]", "unknown `[:class:]`"),
            ("/w/x\\", "a trailing `\\`"),
        ] {
            assert_eq!(
                DenyGlob::parse(pattern).unwrap_err().reason,
                reason,
                "{pattern}"
            );
        }
        let glob = DenyGlob::parse("/w/x/*.env").unwrap();
        assert_eq!(glob.base(), Path::new("/w/x"));
        assert_eq!(DenyGlob::parse("/**/*.pem").unwrap().base(), Path::new("/"));
    }

    #[test]
    fn a_matching_directory_denies_its_subtree() {
        let glob = DenyGlob::parse("/w/**/secrets").unwrap();
        assert!(glob.denies(Path::new("/w/a/secrets")));
        assert!(glob.denies(Path::new("/w/a/secrets/key.pem")));
        assert!(!glob.denies(Path::new("/w/a/secret")));
        assert!(!glob.denies(Path::new("/elsewhere/secrets")));
        assert!(!glob.denies(Path::new("/w")));
    }

    #[test]
    fn serialises_as_its_text_and_refuses_invalid_text() {
        let glob = DenyGlob::parse("/w/**/*.env").unwrap();
        assert_eq!(serde_json::to_string(&glob).unwrap(), "\"/w/**/*.env\"");
        let back: DenyGlob = serde_json::from_str("\"/w/**/*.env\"").unwrap();
        assert_eq!(back, glob);
        assert!(serde_json::from_str::<DenyGlob>("\"/w/[x\"").is_err());
    }
}
