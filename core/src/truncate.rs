//! Bounding text for the model: keep the head and the tail, cut the middle with a marker.

/// Keep at most `max_bytes` of `text` (plus the marker): the first and last halves, cut at
/// character boundaries, with `…N chars truncated…` in between. Text within the budget is
/// returned unchanged.
pub fn truncate_middle(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let half = max_bytes / 2;
    let head_end = floor_boundary(text, half);
    let tail_start = ceil_boundary(text, text.len() - half);
    let removed = text[head_end..tail_start].chars().count();
    format!(
        "{}\n…{removed} chars truncated…\n{}",
        &text[..head_end],
        &text[tail_start..]
    )
}

fn floor_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_boundary(text: &str, mut index: usize) -> usize {
    while index < text.len() && !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

/// The first `lines` lines of `text` (for the human transcript).
pub fn first_lines(text: &str, lines: usize) -> (&str, usize) {
    let total = text.lines().count();
    let end = text
        .match_indices('\n')
        .nth(lines.saturating_sub(1))
        .map_or(text.len(), |(index, _)| index);
    (if lines == 0 { "" } else { &text[..end] }, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_unchanged() {
        assert_eq!(truncate_middle("abc", 3), "abc");
    }

    #[test]
    fn long_text_keeps_head_and_tail_on_char_boundaries() {
        let text = format!("{}{}{}", "a".repeat(10), "é".repeat(100), "z".repeat(10));
        let cut = truncate_middle(&text, 20);
        assert!(cut.starts_with("aaaaaaaaaa"), "{cut}");
        assert!(cut.ends_with("zzzzzzzzzz"), "{cut}");
        assert!(cut.contains("…100 chars truncated…"), "{cut}");
        let odd = truncate_middle(&"é".repeat(50), 7);
        assert!(odd.contains("chars truncated"));
    }

    #[test]
    fn first_lines_counts() {
        assert_eq!(first_lines("a\nb\nc\n", 2), ("a\nb", 3));
        assert_eq!(first_lines("a\nb", 5), ("a\nb", 2));
        assert_eq!(first_lines("", 5), ("", 0));
    }
}
