//! Property: for random files and random edits, a patch written from the edit (the way a model
//! or a diff tool would: context lines around each change, enough to be unambiguous) applies
//! back to exactly the edited text. Also: the unified diff of the change, applied to the old
//! text, gives the new text. Seeded and deterministic; a failure prints its seed.

use codex_apply_patch::{WriteGuard, parse_patch, unified_diff, verify};

use super::common::Tree;

/// xorshift64*: small, deterministic, good enough to shuffle test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Few distinct lines, so that context is often ambiguous; some with odd whitespace.
const VOCABULARY: &[&str] = &[
    "a",
    "b",
    "fn main() {",
    "}",
    "",
    "    let x = 1;",
    "  indented  ",
    "tab\there",
    "ünïcödé — “quoted”",
    "@@ not a marker",
    "+plus",
    "-minus",
    "*** star",
];

fn random_lines(rng: &mut Rng, max: usize) -> Vec<String> {
    let count = rng.below(max + 1);
    (0..count)
        .map(|_| VOCABULARY[rng.below(VOCABULARY.len())].to_string())
        .collect()
}

/// One edit: replace `old[start..start + removed]` with `inserted`.
struct Edit {
    start: usize,
    removed: usize,
    inserted: Vec<String>,
}

fn random_edits(rng: &mut Rng, len: usize) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut position = 0;
    while position <= len && edits.len() < 4 {
        let gap = rng.below(6);
        let start = position + gap;
        if start > len {
            break;
        }
        let removed = rng.below(4).min(len - start);
        let inserted = random_lines(rng, 3);
        if removed == 0 && inserted.is_empty() {
            position = start + 1;
            continue;
        }
        edits.push(Edit {
            start,
            removed,
            inserted,
        });
        // At least one untouched line between edits keeps chunks apart.
        position = start + removed + 1;
    }
    edits
}

/// The update patch for `edits` on `old`: one `@@` chunk per edit, with context before it
/// extended until its lines occur first exactly where they belong (searching from where the
/// previous chunk ended), and one line of context after it when available.
fn write_patch(old: &[String], edits: &[Edit]) -> String {
    let mut text = String::from("*** Begin Patch\n*** Update File: f.txt\n");
    let mut searched_from = 0;
    for (index, edit) in edits.iter().enumerate() {
        let next_start = edits.get(index + 1).map_or(old.len(), |next| next.start);
        let after = (edit.start + edit.removed < next_start) as usize;
        let end = edit.start + edit.removed + after;
        let mut before = usize::from(edit.start > searched_from);
        loop {
            let from = edit.start - before;
            let pattern = &old[from..end];
            let first = (searched_from..=old.len() - pattern.len())
                .find(|&at| old[at..at + pattern.len()] == *pattern);
            if first == Some(from) || from == searched_from {
                break;
            }
            before += 1;
        }
        text.push_str("@@\n");
        for line in &old[edit.start - before..edit.start] {
            text.push_str(&format!(" {line}\n"));
        }
        for line in &old[edit.start..edit.start + edit.removed] {
            text.push_str(&format!("-{line}\n"));
        }
        for line in &edit.inserted {
            text.push_str(&format!("+{line}\n"));
        }
        for line in &old[edit.start + edit.removed..end] {
            text.push_str(&format!(" {line}\n"));
        }
        searched_from = end;
    }
    text.push_str("*** End Patch\n");
    text
}

fn apply_edits(old: &[String], edits: &[Edit]) -> Vec<String> {
    let mut new = Vec::new();
    let mut cursor = 0;
    for edit in edits {
        new.extend_from_slice(&old[cursor..edit.start]);
        new.extend(edit.inserted.iter().cloned());
        cursor = edit.start + edit.removed;
    }
    new.extend_from_slice(&old[cursor..]);
    new
}

#[test]
fn patches_written_from_random_edits_apply_back_exactly() {
    let tree = Tree::new();
    let mut applied = 0;
    for seed in 1..=600u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let old = random_lines(&mut rng, 40);
        let crlf = rng.chance(4);
        // Without a final line break, a last empty line would not be a line at all.
        let final_newline = !rng.chance(5) || old.last().is_some_and(String::is_empty);
        let ending = if crlf { "\r\n" } else { "\n" };
        let mut old_text = old.join(ending);
        if final_newline && !old.is_empty() {
            old_text.push_str(ending);
        }
        let edits = random_edits(&mut rng, old.len());
        if edits.is_empty() || old.is_empty() {
            continue;
        }
        let new = apply_edits(&old, &edits);
        // New lines get the file's first line break (`\n` when it has none).
        let written = if old_text.contains('\n') {
            ending
        } else {
            "\n"
        };
        let expected: String = new.iter().map(|line| format!("{line}{written}")).collect();
        let patch_text = write_patch(&old, &edits);
        std::fs::write(tree.ws().join("f.txt"), &old_text).unwrap();
        let patch = parse_patch(&patch_text)
            .unwrap_or_else(|error| panic!("seed {seed}: {error}\n{patch_text}"));
        let changes = verify(&patch, &tree.ws(), &WriteGuard::unrestricted())
            .unwrap_or_else(|error| panic!("seed {seed}: {error}\n{old_text:?}\n{patch_text}"));
        let change = &changes.changes()[0];
        assert_eq!(
            change.new_content.as_deref(),
            Some(expected.as_str()),
            "seed {seed}\nold {old_text:?}\n{patch_text}"
        );
        let diff = unified_diff(&old_text, &expected);
        assert_eq!(change.unified_diff(), diff);
        codex_apply_patch::apply(&changes).unwrap();
        assert_eq!(
            std::fs::read_to_string(tree.ws().join("f.txt")).unwrap(),
            expected
        );
        applied += 1;
    }
    assert!(applied > 400, "only {applied} cases were generated");
}
