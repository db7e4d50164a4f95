//! Attacks through patch paths: each must be refused before anything is read or written, and
//! leave the tree exactly as it was.

use std::os::unix::fs::symlink;

use codex_apply_patch::{ApplyPatchError, RefusalReason, WriteGuard};
use codex_sandbox_policy::{Access, PathRule};

use super::common::{Tree, patch, workspace_policy};

fn refusal(tree: &Tree, guard: &WriteGuard, body: &str) -> RefusalReason {
    let before = tree.snapshot();
    let error = tree.apply_error(&patch(body), guard).unwrap_err();
    assert_eq!(tree.snapshot(), before, "{body}");
    match error {
        ApplyPatchError::Rejected(refusal) => refusal.reason,
        other => panic!("{body}: not a refusal: {other}"),
    }
}

#[test]
fn dot_dot_and_absolute_escapes_are_refused() {
    let tree = Tree::new();
    tree.write("outside.txt", "secret\n");
    let guard = tree.workspace_guard();
    let outside = tree.base.join("outside.txt");
    for body in [
        "*** Add File: ../escaped.txt\n+x".to_string(),
        "*** Update File: ../outside.txt\n@@\n-secret\n+pwned".to_string(),
        "*** Delete File: sub/../../outside.txt".to_string(),
        format!(
            "*** Update File: {}\n@@\n-secret\n+pwned",
            outside.display()
        ),
        "*** Add File: /etc/codex-escape-test\n+x".to_string(),
        "*** Add File: inside.txt\n+fine\n*** Add File: ../late-escape.txt\n+x".to_string(),
    ] {
        assert_eq!(
            refusal(&tree, &guard, &body),
            RefusalReason::OutsideWritableRoots,
            "{body}"
        );
    }
    assert!(!tree.exists("ws/inside.txt"));
}

#[test]
fn symlinks_are_resolved_before_the_check() {
    let tree = Tree::new();
    tree.write("outside/secret.txt", "secret\n");
    symlink(tree.base.join("outside"), tree.ws().join("out-dir")).unwrap();
    symlink(
        tree.base.join("outside/secret.txt"),
        tree.ws().join("out-file"),
    )
    .unwrap();
    symlink("../outside", tree.ws().join("relative-out")).unwrap();
    let guard = tree.workspace_guard();
    for body in [
        "*** Add File: out-dir/new.txt\n+x",
        "*** Update File: out-file\n@@\n-secret\n+pwned",
        "*** Add File: out-file\n+pwned",
        "*** Update File: relative-out/secret.txt\n@@\n-secret\n+pwned",
        "*** Add File: a.txt\n+x\n*** Update File: a.txt\n*** Move to: out-dir/a.txt\n@@\n-x\n+y",
    ] {
        assert_eq!(
            refusal(&tree, &guard, body),
            RefusalReason::OutsideWritableRoots,
            "{body}"
        );
    }
}

#[test]
fn a_symlink_inside_the_workspace_edits_its_target() {
    let tree = Tree::new();
    tree.write("ws/real.txt", "one\n");
    symlink("real.txt", tree.ws().join("link.txt")).unwrap();
    tree.apply_with(
        &patch("*** Update File: link.txt\n@@\n-one\n+two"),
        &tree.workspace_guard(),
    )
    .unwrap();
    assert_eq!(tree.read("ws/real.txt"), "two\n");
    assert_eq!(
        std::fs::read_link(tree.ws().join("link.txt")).unwrap(),
        std::path::PathBuf::from("real.txt")
    );
    // Deleting or moving a symbolic link itself is refused rather than guessed at.
    let before = tree.snapshot();
    let error = tree.apply(&patch("*** Delete File: link.txt")).unwrap_err();
    assert_eq!(
        error,
        format!(
            "Failed to read {}: is a symbolic link (apply_patch only deletes or moves regular files)",
            tree.ws().join("link.txt").display()
        )
    );
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn protected_metadata_is_refused_at_any_depth() {
    let tree = Tree::new();
    tree.write("ws/.git/config", "[core]\n");
    tree.write("ws/src/lib.rs", "fn main() {}\n");
    let guard = tree.workspace_guard();
    for body in [
        "*** Update File: .git/config\n@@\n-[core]\n+[core]\n+\thooksPath = /tmp/evil",
        "*** Add File: .git/hooks/pre-commit\n+#!/bin/sh",
        "*** Delete File: .git/config",
        "*** Add File: .codex/config.toml\n+sandbox_mode = \"danger-full-access\"",
        "*** Add File: .agents/skills/x.md\n+x",
        "*** Add File: sub/.codex/config.toml\n+x",
        "*** Add File: vendor/dep/.git/hooks/post-checkout\n+x",
        "*** Update File: src/lib.rs\n*** Move to: .git/lib.rs\n@@\n-fn main() {}\n+x",
    ] {
        assert_eq!(
            refusal(&tree, &guard, body),
            RefusalReason::Protected,
            "{body}"
        );
    }
}

#[test]
fn denied_paths_read_only_policies_and_deny_globs() {
    let tree = Tree::new();
    tree.write("ws/credentials/token.json", "{}\n");
    tree.write("ws/conf/app.env", "KEY=1\n");
    let mut policy = workspace_policy(&tree.ws());
    policy.rules.push(PathRule {
        path: tree.ws().join("credentials"),
        access: Access::Deny,
    });
    policy.rules.push(PathRule {
        path: tree.ws().join("credentials/public"),
        access: Access::Write,
    });
    policy.deny_globs = vec![format!("{}/**/*.env", tree.ws().join("conf").display())];
    let guard = WriteGuard::for_policy(&policy);
    assert_eq!(
        refusal(
            &tree,
            &guard,
            "*** Update File: credentials/token.json\n@@\n-{}\n+{\"a\":1}"
        ),
        RefusalReason::Denied
    );
    assert_eq!(
        refusal(&tree, &guard, "*** Add File: credentials/public/x\n+x"),
        RefusalReason::Denied
    );
    assert!(matches!(
        refusal(
            &tree,
            &guard,
            "*** Update File: conf/app.env\n@@\n-KEY=1\n+KEY=2"
        ),
        RefusalReason::DenyGlob { .. }
    ));
    let mut read_only = workspace_policy(&tree.ws());
    read_only.rules.retain(|rule| rule.access == Access::Read);
    read_only.writable_roots.clear();
    let guard = WriteGuard::for_policy(&read_only);
    let before = tree.snapshot();
    assert_eq!(
        tree.apply_with(&patch("*** Add File: a.txt\n+x"), &guard)
            .unwrap_err(),
        "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
    );
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn a_missing_writable_root_is_not_created_from_outside() {
    let tree = Tree::new();
    let root = tree.ws().join("not-yet");
    let guard = WriteGuard::for_policy(&workspace_policy(&root));
    assert_eq!(
        refusal(&tree, &guard, "*** Add File: not-yet/deep/a.txt\n+x"),
        RefusalReason::OutsideWritableRoots
    );
    assert!(!tree.exists("ws/not-yet"));
    // Inside an existing root, missing directories are created as usual.
    tree.apply_with(
        &patch("*** Add File: deep/er/a.txt\n+x"),
        &tree.workspace_guard(),
    )
    .unwrap();
    assert_eq!(tree.read("ws/deep/er/a.txt"), "x\n");
}

#[test]
fn refused_paths_are_never_opened() {
    // A FIFO outside the workspace would block a reader forever: the guard refuses it first.
    let tree = Tree::new();
    let fifo = tree.base.join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c_path` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let guard = tree.workspace_guard();
    assert_eq!(
        refusal(&tree, &guard, "*** Update File: ../fifo\n@@\n-a\n+b"),
        RefusalReason::OutsideWritableRoots
    );
    // Without a guard, special files are refused when read, without blocking.
    let error = tree
        .apply(&patch("*** Update File: ../fifo\n@@\n-a\n+b"))
        .unwrap_err();
    assert_eq!(
        error,
        format!(
            "Failed to read file to update {}: not a regular file",
            fifo.display()
        )
    );
    let error = tree
        .apply(&patch("*** Update File: /dev/zero\n@@\n-a\n+b"))
        .unwrap_err();
    assert_eq!(
        error,
        "Failed to read file to update /dev/zero: not a regular file"
    );
}

#[test]
fn a_hard_link_to_an_outside_file_is_not_written_through() {
    let tree = Tree::new();
    let outside = tree.write("outside.txt", "shared\n");
    std::fs::hard_link(&outside, tree.ws().join("linked.txt")).unwrap();
    tree.apply_with(
        &patch("*** Update File: linked.txt\n@@\n-shared\n+changed"),
        &tree.workspace_guard(),
    )
    .unwrap();
    assert_eq!(tree.read("ws/linked.txt"), "changed\n");
    assert_eq!(tree.read("outside.txt"), "shared\n");
}
