//! Text from the model or a tool, made safe for a terminal: every control character except
//! newline and tab becomes visible text, so no escape sequence (CSI, OSC, DCS, 8-bit C1, BEL,
//! carriage-return overwrites) reaches the terminal. Only the printer's own colour codes do.

/// `text` with C0 controls as `^X` (ESC is `^[`, DEL `^?`), C1 controls and the Unicode
/// bidirectional overrides as `<U+XXXX>`.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\n' | '\t' => out.push(character),
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(character as u8 + 0x40));
            }
            '\u{7f}' => out.push_str("^?"),
            '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("<U+{:04X}>", character as u32))
            }
            _ => out.push(character),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible() {
        assert_eq!(visible("a\u{1b}[31mred\u{7}\r\n"), "a^[[31mred^G^M\n");
        assert_eq!(visible("\u{1b}]0;title\u{7}"), "^[]0;title^G");
        assert_eq!(visible("\u{9b}2J\u{90}q"), "<U+009B>2J<U+0090>q");
        assert_eq!(visible("tab\tok é \u{202e}x"), "tab\tok é <U+202E>x");
        assert_eq!(visible("\u{0}\u{7f}"), "^@^?");
    }
}
