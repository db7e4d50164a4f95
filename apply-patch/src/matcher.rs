//! Finding a chunk's lines in a file, with upstream's fallbacks in order: exact, trailing
//! whitespace ignored, both ends trimmed, then Unicode punctuation and spaces normalised to ASCII.
//! Each level scans the whole search range before the next, more lenient level is tried.

/// How strictly two lines are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leniency {
    Exact,
    TrailingWhitespace,
    SurroundingWhitespace,
    Unicode,
}

const LEVELS: [Leniency; 4] = [
    Leniency::Exact,
    Leniency::TrailingWhitespace,
    Leniency::SurroundingWhitespace,
    Leniency::Unicode,
];

/// The first index `i >= start` where `pattern` occurs in `lines`, trying each leniency level in
/// turn. With `at_end`, the position that puts `pattern` at the very end of `lines` is tried
/// first (all levels), then the search from `start`. An empty pattern matches at `start`.
pub(crate) fn seek(lines: &[&str], pattern: &[&str], start: usize, at_end: bool) -> Option<usize> {
    if pattern.is_empty() {
        return Some(start);
    }
    if pattern.len() > lines.len() {
        return None;
    }
    let last_start = lines.len() - pattern.len();
    if at_end && last_start >= start {
        for level in LEVELS {
            if matches_at(lines, pattern, last_start, level) {
                return Some(last_start);
            }
        }
    }
    for level in LEVELS {
        for index in start..=last_start {
            if matches_at(lines, pattern, index, level) {
                return Some(index);
            }
        }
    }
    None
}

fn matches_at(lines: &[&str], pattern: &[&str], index: usize, level: Leniency) -> bool {
    lines[index..index + pattern.len()]
        .iter()
        .zip(pattern)
        .all(|(line, wanted)| lines_equal(line, wanted, level))
}

pub(crate) fn lines_equal(line: &str, wanted: &str, level: Leniency) -> bool {
    match level {
        Leniency::Exact => line == wanted,
        Leniency::TrailingWhitespace => line.trim_end() == wanted.trim_end(),
        Leniency::SurroundingWhitespace => line.trim() == wanted.trim(),
        Leniency::Unicode => line
            .trim()
            .chars()
            .map(normalise)
            .eq(wanted.trim().chars().map(normalise)),
    }
}

/// Typographic dashes, quotes and odd spaces as their ASCII counterparts.
fn normalise(c: char) -> char {
    match c {
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' => '-',
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => '"',
        '\u{00A0}' | '\u{2002}' | '\u{2003}' | '\u{2004}' | '\u{2005}' | '\u{2006}'
        | '\u{2007}' | '\u{2008}' | '\u{2009}' | '\u{200A}' | '\u{202F}' | '\u{205F}'
        | '\u{3000}' => ' ',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_in_order() {
        assert_eq!(
            seek(&["foo", "bar", "baz"], &["bar", "baz"], 0, false),
            Some(1)
        );
        assert_eq!(
            seek(&["foo   ", "bar\t"], &["foo", "bar"], 0, false),
            Some(0)
        );
        assert_eq!(
            seek(&["  foo  ", " bar"], &["foo", "bar"], 0, false),
            Some(0)
        );
        assert_eq!(
            seek(
                &["a \u{2014} \u{201C}b\u{201D}\u{00A0}c"],
                &["a - \"b\" c"],
                0,
                false
            ),
            Some(0)
        );
        // A stricter match later in the file wins over a lenient one earlier.
        assert_eq!(seek(&["x ", "x"], &["x"], 0, false), Some(1));
        assert_eq!(seek(&["x"], &["y"], 0, false), None);
    }

    #[test]
    fn search_starts_at_start_and_end_anchor_comes_first() {
        assert_eq!(seek(&["a", "b", "a"], &["a"], 1, false), Some(2));
        assert_eq!(seek(&["a", "b", "a"], &["a"], 0, true), Some(2));
        // The end anchor falls back to the normal search.
        assert_eq!(seek(&["a", "b", "c"], &["a"], 0, true), Some(0));
        assert_eq!(seek(&["a"], &["a", "b"], 0, false), None);
        assert_eq!(seek(&["a"], &[], 1, false), Some(1));
        assert_eq!(seek(&["a", "b"], &["a"], 2, true), None);
    }
}
