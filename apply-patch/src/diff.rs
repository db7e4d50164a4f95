//! Line diffs in unified format (hunks only, no `---`/`+++` header), the way upstream renders
//! a change for events: one line of context, GNU hunk ranges, `\ No newline at end of file`
//! after a last line without a newline.
//!
//! The edit script comes from Myers' greedy algorithm over interned lines, after the common
//! prefix and suffix are cut off. Its cost grows with the number of edited lines, so a budget
//! bounds it: past the budget the remaining middle region is reported as removed and re-added
//! (still a correct diff, just not a minimal one).

use std::collections::HashMap;
use std::fmt::Write as _;

/// Context lines around each change.
const CONTEXT: usize = 1;
/// Largest edit distance searched (the trace holds about `MAX_EDITS²` 32-bit entries).
const MAX_EDITS: usize = 1500;
/// Largest `(old + new lines) × edit distance` searched.
const MAX_WORK: usize = 200_000_000;

/// The unified diff from `old` to `new`; empty when they are equal.
pub fn unified_diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let changes = changes(&old_lines, &new_lines);
    render(&old_lines, &new_lines, &changes)
}

/// A run of removed lines `old[old_start..old_end]` replaced by `new[new_start..new_end]`
/// (either side may be empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Change {
    old_start: usize,
    old_end: usize,
    new_start: usize,
    new_end: usize,
}

fn changes<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Change> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    if old_mid.is_empty() && new_mid.is_empty() {
        return Vec::new();
    }
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut intern = |lines: &[&'a str]| -> Vec<u32> {
        lines
            .iter()
            .map(|line| {
                let next = ids.len() as u32;
                *ids.entry(*line).or_insert(next)
            })
            .collect()
    };
    let a = intern(old_mid);
    let b = intern(new_mid);
    let script = myers(&a, &b).unwrap_or_else(|| {
        let mut ops = vec![Op::Delete; a.len()];
        ops.extend(std::iter::repeat_n(Op::Insert, b.len()));
        ops
    });
    let mut result: Vec<Change> = Vec::new();
    let (mut x, mut y) = (prefix, prefix);
    for op in script {
        match op {
            Op::Equal => {
                x += 1;
                y += 1;
                continue;
            }
            Op::Delete => x += 1,
            Op::Insert => y += 1,
        }
        let (old_start, new_start) = match op {
            Op::Delete => (x - 1, y),
            _ => (x, y - 1),
        };
        match result.last_mut() {
            Some(last) if last.old_end == old_start && last.new_end == new_start => {
                last.old_end = x;
                last.new_end = y;
            }
            _ => result.push(Change {
                old_start,
                old_end: x,
                new_start,
                new_end: y,
            }),
        }
    }
    result
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    Delete,
    Insert,
}

/// The shortest edit script from `a` to `b`, or `None` past the budget.
fn myers(a: &[u32], b: &[u32]) -> Option<Vec<Op>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let total = a.len() + b.len();
    let max_edits = total.min(MAX_EDITS).min(MAX_WORK / total.max(1)) as isize;
    // `v[k + offset]`: the furthest x reached on diagonal k.
    let offset = max_edits + 1;
    let mut v = vec![0isize; 2 * offset as usize + 1];
    let mut trace: Vec<Vec<i32>> = Vec::new();
    let mut found = None;
    'search: for d in 0..=max_edits {
        for k in (-d..=d).step_by(2) {
            let index = (k + offset) as usize;
            let mut x = if k == -d || (k != d && v[index - 1] < v[index + 1]) {
                v[index + 1]
            } else {
                v[index - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[index] = x;
            if x >= n && y >= m {
                trace.push(snapshot(&v, offset, d));
                found = Some(d);
                break 'search;
            }
        }
        trace.push(snapshot(&v, offset, d));
    }
    let edits = found?;
    let mut ops = Vec::with_capacity(total);
    let (mut x, mut y) = (n, m);
    for d in (1..=edits).rev() {
        let previous = &trace[d as usize - 1];
        let at = |k: isize| previous[(k + d - 1) as usize] as isize;
        let k = x - y;
        let previous_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let previous_x = at(previous_k);
        let previous_y = previous_x - previous_k;
        let (mid_x, mid_y) = if previous_k == k + 1 {
            (previous_x, previous_y + 1)
        } else {
            (previous_x + 1, previous_y)
        };
        while x > mid_x && y > mid_y {
            ops.push(Op::Equal);
            x -= 1;
            y -= 1;
        }
        ops.push(if previous_k == k + 1 {
            Op::Insert
        } else {
            Op::Delete
        });
        x = previous_x;
        y = previous_y;
    }
    while x > 0 && y > 0 {
        ops.push(Op::Equal);
        x -= 1;
        y -= 1;
    }
    ops.reverse();
    Some(ops)
}

/// `v` for the diagonals `-d..=d` (the only ones step `d` wrote).
fn snapshot(v: &[isize], offset: isize, d: isize) -> Vec<i32> {
    v[(offset - d) as usize..=(offset + d) as usize]
        .iter()
        .map(|&x| x as i32)
        .collect()
}

fn render(old: &[&str], new: &[&str], changes: &[Change]) -> String {
    let mut out = String::new();
    let mut index = 0;
    while index < changes.len() {
        // Group changes whose context would touch or overlap.
        let mut end = index;
        while end + 1 < changes.len()
            && changes[end + 1].old_start - changes[end].old_end <= 2 * CONTEXT
        {
            end += 1;
        }
        let first = changes[index];
        let last = changes[end];
        let old_from = first.old_start.saturating_sub(CONTEXT);
        let new_from = first.new_start - (first.old_start - old_from);
        let old_to = (last.old_end + CONTEXT).min(old.len());
        let new_to = last.new_end + (old_to - last.old_end);
        let _ = writeln!(
            out,
            "@@ -{} +{} @@",
            range(old_from, old_to - old_from),
            range(new_from, new_to - new_from)
        );
        let mut cursor = old_from;
        for change in &changes[index..=end] {
            for line in &old[cursor..change.old_start] {
                push_line(&mut out, ' ', line);
            }
            for line in &old[change.old_start..change.old_end] {
                push_line(&mut out, '-', line);
            }
            for line in &new[change.new_start..change.new_end] {
                push_line(&mut out, '+', line);
            }
            cursor = change.old_end;
        }
        for line in &old[cursor..old_to] {
            push_line(&mut out, ' ', line);
        }
        index = end + 1;
    }
    out
}

/// GNU range notation: `start,len`, just `start` for one line, `start-1,0` for none.
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn push_line(out: &mut String, marker: char, line: &str) {
    out.push(marker);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apply a diff produced by `unified_diff` to `old` (test oracle).
    fn patch(old: &str, diff: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut cursor = 0;
        let mut lines = diff.split_inclusive('\n').peekable();
        while let Some(header) = lines.next() {
            let start: usize = header
                .trim_start_matches("@@ -")
                .split([',', ' '])
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let len_zero = header.split(' ').nth(1).unwrap().ends_with(",0");
            let start = if len_zero { start } else { start - 1 };
            for line in &old_lines[cursor..start] {
                out.push_str(line);
            }
            cursor = start;
            while let Some(line) = lines.next_if(|line| !line.starts_with("@@")) {
                let (marker, text) = line.split_at(1);
                let text = match lines.next_if(|next| next.starts_with('\\')) {
                    Some(_) => text.strip_suffix('\n').unwrap(),
                    None => text,
                };
                match marker {
                    " " => {
                        assert_eq!(old_lines[cursor], text);
                        out.push_str(text);
                        cursor += 1;
                    }
                    "-" => {
                        assert_eq!(old_lines[cursor], text);
                        cursor += 1;
                    }
                    "+" => out.push_str(text),
                    other => panic!("bad marker {other:?}"),
                }
            }
        }
        for line in &old_lines[cursor..] {
            out.push_str(line);
        }
        out
    }

    #[test]
    fn golden_hunks_with_one_line_of_context() {
        assert_eq!(unified_diff("a\nb\nc\n", "a\nb\nc\n"), "");
        assert_eq!(
            unified_diff("a\nb\nc\nd\ne\nf\ng\n", "a\nB\nc\nd\ne\nf\nG\n"),
            "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -6,2 +6,2 @@\n f\n-g\n+G\n"
        );
        // Changes two lines apart share one hunk.
        assert_eq!(
            unified_diff("a\nb\nc\nd\n", "A\nb\nc\nD\n"),
            "@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n-d\n+D\n"
        );
        assert_eq!(unified_diff("", "x\ny\n"), "@@ -0,0 +1,2 @@\n+x\n+y\n");
        assert_eq!(unified_diff("x\n", ""), "@@ -1 +0,0 @@\n-x\n");
        assert_eq!(
            unified_diff("a\nb", "a\nb\n"),
            "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
        assert_eq!(
            unified_diff("a\r\nb\r\n", "a\r\nc\r\n"),
            "@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"
        );
    }

    #[test]
    fn diff_is_minimal_for_an_insertion_in_repeated_lines() {
        assert_eq!(
            unified_diff("x\nx\nx\n", "x\nx\ny\nx\n"),
            "@@ -2,2 +2,3 @@\n x\n+y\n x\n"
        );
    }

    #[test]
    fn random_diffs_apply_back() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let make = |next: &mut dyn FnMut() -> u64| {
                let count = next() % 12;
                let mut text = String::new();
                for _ in 0..count {
                    text.push(char::from(b'a' + (next() % 4) as u8));
                    text.push('\n');
                }
                if next().is_multiple_of(4) {
                    text.push('z');
                }
                text
            };
            let old = make(&mut next);
            let new = make(&mut next);
            let diff = unified_diff(&old, &new);
            assert_eq!(patch(&old, &diff), new, "old {old:?} new {new:?}\n{diff}");
        }
    }

    #[test]
    fn budget_fallback_is_still_a_correct_diff() {
        let old: String = (0..3000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("new {i}\n")).collect();
        let diff = unified_diff(&old, &new);
        assert_eq!(patch(&old, &diff), new);
        assert_eq!(
            diff.lines().filter(|line| line.starts_with('-')).count(),
            3000
        );
    }
}
