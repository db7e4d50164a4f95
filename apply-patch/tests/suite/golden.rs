//! Golden cases: each hunk kind, each matcher fallback, line endings, and the failures that must
//! leave the tree untouched, with upstream's texts.

use std::path::PathBuf;

use codex_apply_patch::{ChangeKind, WriteGuard, parse_patch, verify};

use super::common::{Tree, patch};

fn summary(lines: &[&str]) -> String {
    let mut text = "Success. Updated the following files:\n".to_string();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[test]
fn add_file_creates_parent_directories() {
    let tree = Tree::new();
    let result = tree.apply(&patch(
        "*** Add File: nested/dir/new.txt\n+hello\n+\n+world",
    ));
    assert_eq!(result.unwrap(), summary(&["A nested/dir/new.txt"]));
    assert_eq!(tree.read("ws/nested/dir/new.txt"), "hello\n\nworld\n");
}

#[test]
fn add_file_overwrites_an_existing_file() {
    let tree = Tree::new();
    tree.write("ws/dup.txt", "old\n");
    assert_eq!(
        tree.apply(&patch("*** Add File: dup.txt\n+new")).unwrap(),
        summary(&["A dup.txt"])
    );
    assert_eq!(tree.read("ws/dup.txt"), "new\n");
}

#[test]
fn delete_file_removes_it() {
    let tree = Tree::new();
    tree.write("ws/obsolete.txt", "bye\n");
    tree.write("ws/keep.txt", "stay\n");
    assert_eq!(
        tree.apply(&patch("*** Delete File: obsolete.txt")).unwrap(),
        summary(&["D obsolete.txt"])
    );
    assert!(!tree.exists("ws/obsolete.txt"));
    assert_eq!(tree.read("ws/keep.txt"), "stay\n");
}

#[test]
fn update_with_context_marker_and_several_chunks() {
    let tree = Tree::new();
    tree.write(
        "ws/app.py",
        "class A:\n    def f(self):\n        return 1\n\nclass B:\n    def f(self):\n        return 1\n",
    );
    let result = tree.apply(&patch(
        "*** Update File: app.py\n@@ class B:\n     def f(self):\n-        return 1\n+        return 2\n",
    ));
    assert_eq!(result.unwrap(), summary(&["M app.py"]));
    assert_eq!(
        tree.read("ws/app.py"),
        "class A:\n    def f(self):\n        return 1\n\nclass B:\n    def f(self):\n        return 2\n"
    );
    tree.write("ws/multi.txt", "foo\nbar\nbaz\nqux\n");
    tree.apply(&patch(
        "*** Update File: multi.txt\n@@\n foo\n-bar\n+BAR\n@@\n baz\n-qux\n+QUX",
    ))
    .unwrap();
    assert_eq!(tree.read("ws/multi.txt"), "foo\nBAR\nbaz\nQUX\n");
}

#[test]
fn first_chunk_may_omit_the_marker_and_deletions_only_work() {
    let tree = Tree::new();
    tree.write("ws/lines.txt", "import foo\nline2\nline3\n");
    tree.apply(&patch(
        "*** Update File: lines.txt\n import foo\n+bar\n-line2",
    ))
    .unwrap();
    assert_eq!(tree.read("ws/lines.txt"), "import foo\nbar\nline3\n");
}

#[test]
fn move_to_a_new_directory_with_changes() {
    let tree = Tree::new();
    tree.write("ws/old/name.txt", "old content\n");
    tree.write("ws/old/other.txt", "unrelated\n");
    let result = tree.apply(&patch(
        "*** Update File: old/name.txt\n*** Move to: renamed/dir/name.txt\n@@\n-old content\n+new content",
    ));
    assert_eq!(result.unwrap(), summary(&["M renamed/dir/name.txt"]));
    assert!(!tree.exists("ws/old/name.txt"));
    assert_eq!(tree.read("ws/old/other.txt"), "unrelated\n");
    assert_eq!(tree.read("ws/renamed/dir/name.txt"), "new content\n");
}

#[test]
fn move_onto_an_existing_file_replaces_it() {
    let tree = Tree::new();
    tree.write("ws/from.txt", "from\n");
    tree.write("ws/to.txt", "to\n");
    let patch_text = patch("*** Update File: from.txt\n*** Move to: to.txt\n@@\n-from\n+moved");
    let changes = verify(
        &parse_patch(&patch_text).unwrap(),
        &tree.ws(),
        &WriteGuard::unrestricted(),
    )
    .unwrap();
    assert_eq!(changes.changes().len(), 1);
    let change = &changes.changes()[0];
    assert_eq!(change.path, tree.ws().join("from.txt"));
    assert_eq!(
        change.kind,
        ChangeKind::Update {
            move_path: Some(tree.ws().join("to.txt"))
        }
    );
    assert_eq!(change.unified_diff(), "@@ -1 +1 @@\n-from\n+moved\n");
    codex_apply_patch::apply(&changes).unwrap();
    assert!(!tree.exists("ws/from.txt"));
    assert_eq!(tree.read("ws/to.txt"), "moved\n");
}

#[test]
fn pure_additions_append_or_follow_their_context() {
    let tree = Tree::new();
    tree.write("ws/input.txt", "line1\nline2\n");
    tree.apply(&patch("*** Update File: input.txt\n@@\n+added 1\n+added 2"))
        .unwrap();
    assert_eq!(
        tree.read("ws/input.txt"),
        "line1\nline2\nadded 1\nadded 2\n"
    );
    tree.write("ws/code.rs", "fn a() {\n}\nfn b() {\n}\n");
    tree.apply(&patch(
        "*** Update File: code.rs\n@@ fn a() {\n+    todo!();",
    ))
    .unwrap();
    assert_eq!(
        tree.read("ws/code.rs"),
        "fn a() {\n    todo!();\n}\nfn b() {\n}\n"
    );
}

#[test]
fn end_of_file_marker_anchors_at_the_end() {
    let tree = Tree::new();
    tree.write("ws/tail.txt", "last\nmiddle\nlast\n");
    tree.apply(&patch(
        "*** Update File: tail.txt\n@@\n-last\n+LAST\n*** End of File",
    ))
    .unwrap();
    assert_eq!(tree.read("ws/tail.txt"), "last\nmiddle\nLAST\n");
}

#[test]
fn each_fallback_level_finds_the_lines() {
    // (file, old line in the patch): exact, trailing whitespace, surrounding whitespace,
    // Unicode punctuation and spaces.
    for (file, old) in [
        ("keep\nvalue = 1\nkeep\n", "value = 1"),
        ("keep\nvalue = 1   \t\nkeep\n", "value = 1"),
        ("keep\n    value = 1  \nkeep\n", "value = 1"),
        (
            "keep\nx \u{2014} \u{201c}quoted\u{201d}\u{00a0}it\u{2019}s\nkeep\n",
            "x - \"quoted\" it's",
        ),
    ] {
        let tree = Tree::new();
        tree.write("ws/f.txt", file);
        tree.apply(&patch(&format!(
            "*** Update File: f.txt\n@@\n keep\n-{old}\n+replaced\n keep"
        )))
        .unwrap();
        assert_eq!(tree.read("ws/f.txt"), "keep\nreplaced\nkeep\n", "{file:?}");
    }
}

#[test]
fn a_stricter_match_later_wins_over_a_lenient_one_earlier() {
    let tree = Tree::new();
    tree.write("ws/f.txt", "target  \ntarget\n");
    tree.apply(&patch("*** Update File: f.txt\n@@\n-target\n+hit"))
        .unwrap();
    assert_eq!(tree.read("ws/f.txt"), "target  \nhit\n");
}

#[test]
fn crlf_files_keep_crlf() {
    let tree = Tree::new();
    tree.write("ws/win.txt", "one\r\ntwo\r\nthree\r\n");
    tree.apply(&patch(
        "*** Update File: win.txt\n@@\n one\n-two\n+TWO\n+2.5",
    ))
    .unwrap();
    assert_eq!(tree.read("ws/win.txt"), "one\r\nTWO\r\n2.5\r\nthree\r\n");
    // A patch sent with CRLF line breaks applies the same way.
    tree.apply("*** Begin Patch\r\n*** Update File: win.txt\r\n@@\r\n-three\r\n+THREE\r\n*** End Patch\r\n")
        .unwrap();
    assert_eq!(tree.read("ws/win.txt"), "one\r\nTWO\r\n2.5\r\nTHREE\r\n");
}

#[test]
fn a_file_without_a_trailing_newline_gets_one() {
    let tree = Tree::new();
    tree.write("ws/no_newline.txt", "first\nlast");
    tree.apply(&patch(
        "*** Update File: no_newline.txt\n@@\n-first\n+FIRST",
    ))
    .unwrap();
    assert_eq!(tree.read("ws/no_newline.txt"), "FIRST\nlast\n");
    tree.write("ws/edit_last.txt", "first\nlast");
    tree.apply(&patch(
        "*** Update File: edit_last.txt\n@@\n first\n-last\n+LAST",
    ))
    .unwrap();
    assert_eq!(tree.read("ws/edit_last.txt"), "first\nLAST\n");
}

#[test]
fn unicode_text_is_matched_and_kept() {
    let tree = Tree::new();
    tree.write("ws/foo.txt", "héllo wörld\n日本語の行\n🦀 crab\n");
    tree.apply(&patch(
        "*** Update File: foo.txt\n@@\n héllo wörld\n-日本語の行\n+中文行\n 🦀 crab",
    ))
    .unwrap();
    assert_eq!(tree.read("ws/foo.txt"), "héllo wörld\n中文行\n🦀 crab\n");
}

#[test]
fn hunks_on_the_same_file_apply_in_order() {
    let tree = Tree::new();
    let result = tree.apply(&patch(
        "*** Add File: f.txt\n+a\n+b\n*** Update File: f.txt\n@@\n-a\n+A\n*** Update File: f.txt\n@@\n A\n-b\n+B",
    ));
    assert_eq!(result.unwrap(), summary(&["A f.txt", "M f.txt", "M f.txt"]));
    assert_eq!(tree.read("ws/f.txt"), "A\nB\n");
}

#[test]
fn summary_lists_added_then_modified_then_deleted() {
    let tree = Tree::new();
    tree.write("ws/modify.txt", "line1\nline2\n");
    tree.write("ws/delete.txt", "obsolete\n");
    let result = tree.apply(&patch(
        "*** Delete File: delete.txt\n*** Update File: modify.txt\n@@\n-line2\n+changed\n*** Add File: nested/new.txt\n+created",
    ));
    assert_eq!(
        result.unwrap(),
        summary(&["A nested/new.txt", "M modify.txt", "D delete.txt"])
    );
}

#[test]
fn failures_use_upstream_messages_and_change_nothing() {
    let tree = Tree::new();
    tree.write("ws/f.txt", "one\ntwo\nthree\n");
    let ws = tree.ws();
    let before = tree.snapshot();
    for (body, expected) in [
        (
            "*** Delete File: missing.txt".to_string(),
            format!(
                "Failed to read {}: No such file or directory (os error 2)",
                ws.join("missing.txt").display()
            ),
        ),
        (
            "*** Update File: missing.txt\n@@\n-a\n+b".to_string(),
            format!(
                "Failed to read file to update {}: No such file or directory (os error 2)",
                ws.join("missing.txt").display()
            ),
        ),
        (
            // Two chunks in the wrong order.
            "*** Update File: f.txt\n@@\n-three\n+3\n@@\n-one\n+1".to_string(),
            format!(
                "Failed to find expected lines in {}:\none",
                ws.join("f.txt").display()
            ),
        ),
        (
            "*** Update File: f.txt\n@@ nowhere\n-one\n+1".to_string(),
            format!(
                "Failed to find context 'nowhere' in {}",
                ws.join("f.txt").display()
            ),
        ),
        (
            // The second file fails: the first is not written either.
            "*** Add File: first.txt\n+new\n*** Update File: f.txt\n@@\n-absent\n-lines\n+x"
                .to_string(),
            format!(
                "Failed to find expected lines in {}:\nabsent\nlines",
                ws.join("f.txt").display()
            ),
        ),
        (
            "*** Delete File: f.txt\n*** Delete File: f.txt".to_string(),
            format!(
                "Failed to read {}: No such file or directory (os error 2)",
                ws.join("f.txt").display()
            ),
        ),
        (
            "*** Update File: .\n@@\n-a\n+b".to_string(),
            format!(
                "Failed to read file to update {}: Is a directory (os error 21)",
                ws.display()
            ),
        ),
    ] {
        assert_eq!(tree.apply(&patch(&body)).unwrap_err(), expected, "{body}");
        assert_eq!(tree.snapshot(), before, "{body}");
    }
    assert_eq!(
        tree.apply("*** Begin Patch\n*** End Patch").unwrap_err(),
        "No files were modified."
    );
    assert_eq!(
        tree.apply("*** Begin Patch\n*** Update File: f.txt\n*** End Patch")
            .unwrap_err(),
        "invalid hunk at line 2, Update file hunk for path 'f.txt' is empty"
    );
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn non_utf8_files_are_refused_not_corrupted() {
    let tree = Tree::new();
    let binary = b"caf\xe9\nline\n".to_vec();
    tree.write("ws/latin1.txt", &binary);
    let error = tree
        .apply(&patch("*** Update File: latin1.txt\n@@\n-line\n+LINE"))
        .unwrap_err();
    assert_eq!(
        error,
        format!(
            "Failed to read file to update {}: stream did not contain valid UTF-8 (apply_patch only edits UTF-8 text files)",
            tree.ws().join("latin1.txt").display()
        )
    );
    assert_eq!(std::fs::read(tree.ws().join("latin1.txt")).unwrap(), binary);
    // Replacing it whole or deleting it is fine (a rollback would restore its exact bytes).
    tree.apply(&patch("*** Add File: latin1.txt\n+café"))
        .unwrap();
    assert_eq!(tree.read("ws/latin1.txt"), "café\n");
    tree.write("ws/logo.png", b"\x89PNG\r\n\x1a\n\xff");
    tree.apply(&patch("*** Delete File: logo.png")).unwrap();
    assert!(!tree.exists("ws/logo.png"));
}

#[test]
fn change_set_reports_each_file_with_a_diff() {
    let tree = Tree::new();
    tree.write("ws/a.txt", "1\n2\n3\n4\n5\n6\n");
    tree.write("ws/gone.txt", "bye\n");
    let text = patch(
        "*** Update File: a.txt\n@@\n 1\n-2\n+two\n@@\n 5\n-6\n+six\n*** Delete File: gone.txt\n*** Add File: new.txt\n+hi",
    );
    let changes = verify(
        &parse_patch(&text).unwrap(),
        &tree.ws(),
        &WriteGuard::unrestricted(),
    )
    .unwrap();
    let report: Vec<(PathBuf, ChangeKind, String)> = changes
        .changes()
        .iter()
        .map(|change| {
            (
                change.path.clone(),
                change.kind.clone(),
                change.unified_diff(),
            )
        })
        .collect();
    let ws = tree.ws();
    assert_eq!(
        report,
        vec![
            (
                ws.join("a.txt"),
                ChangeKind::Update { move_path: None },
                "@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n@@ -5,2 +5,2 @@\n 5\n-6\n+six\n".to_string()
            ),
            (
                ws.join("gone.txt"),
                ChangeKind::Delete,
                "@@ -1 +0,0 @@\n-bye\n".to_string()
            ),
            (
                ws.join("new.txt"),
                ChangeKind::Add,
                "@@ -0,0 +1 @@\n+hi\n".to_string()
            ),
        ]
    );
    // Verifying wrote nothing.
    assert!(!tree.exists("ws/new.txt"));
    assert_eq!(tree.read("ws/a.txt"), "1\n2\n3\n4\n5\n6\n");
}
