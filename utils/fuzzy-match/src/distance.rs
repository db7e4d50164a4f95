//! Optimal string alignment distance (Levenshtein plus swaps of two neighbours).

/// The number of single-character insertions, deletions, substitutions and swaps of two
/// adjacent characters that turn `a` into `b` (no substring is edited twice). Compares
/// `char`s exactly; [`crate::nearest`] normalises case and separators first.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() {
        return b.len();
    }
    if b.is_empty() {
        return a.len();
    }
    // Three rows: two back (for swaps), previous, current.
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_kind_of_edit_once() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("login", "login"), 0);
        assert_eq!(edit_distance("logn", "login"), 1, "insertion");
        assert_eq!(edit_distance("loggin", "login"), 1, "deletion");
        assert_eq!(edit_distance("lagin", "login"), 1, "substitution");
        assert_eq!(edit_distance("lgoin", "login"), 1, "swap");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn is_symmetric_and_counts_characters_not_bytes() {
        for (a, b) in [("sandbox", "snadbox"), ("features", "feature"), ("é", "e")] {
            assert_eq!(edit_distance(a, b), edit_distance(b, a), "{a} {b}");
        }
        assert_eq!(edit_distance("é", "e"), 1);
        assert_eq!(edit_distance("ключ", "клюх"), 1);
    }

    #[test]
    fn optimal_string_alignment_does_not_edit_a_swapped_pair_again() {
        // True Damerau-Levenshtein gives 2 (swap, then insert); OSA gives 3.
        assert_eq!(edit_distance("ca", "abc"), 3);
    }
}
