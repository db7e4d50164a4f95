//! Text from a token or a JWKS document, made safe to print in an error message.
//!
//! Shared with `codex-login` (re-exported as `codex_agent_identity::printable`): control characters (C0, DEL, C1 — so no terminal escape sequence survives) and
//! bidirectional-override marks become spaces, at most 200 characters are kept, and the ends
//! are trimmed.

const MAX_PRINTABLE_CHARS: usize = 200;

pub fn printable(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if is_unsafe_char(c) { ' ' } else { c })
        .take(MAX_PRINTABLE_CHARS)
        .collect();
    line.trim().to_string()
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_removes_escapes_and_caps_the_length() {
        assert_eq!(
            printable("\u{1b}]0;owned\u{7}\u{1b}[2Jhi\u{9b}31m\u{202e}x\r\n"),
            "]0;owned  [2Jhi 31m x"
        );
        assert_eq!(printable(&"k".repeat(500)).len(), 200);
    }
}
