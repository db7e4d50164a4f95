//! `apply_patch`: parse and verify in process (for the event, the diff and a first policy
//! check), then apply it *through the sandbox* by running `codex apply-patch` there, so the OS
//! sandbox enforces the same rule a second time.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use codex_apply_patch::{
    ApplyPatchError, ChangeKind, Hunk, Patch, WriteGuard, parse_patch, verify,
};

use crate::events::{Event, PatchChangeKind, PatchFileChange};
use crate::runner::{CommandEnding, ToolCommand};
use crate::tools::ToolContext;

/// A patch larger than this cannot be passed as one argument (the kernel's `MAX_ARG_STRLEN`).
const MAX_PATCH_BYTES: usize = 120 * 1024;
const PATCH_TIMEOUT: Duration = Duration::from_secs(60);

/// A patch given as text (the freeform tool or the function's `input`).
pub(crate) fn apply_patch_text(
    call_id: &str,
    text: &str,
    cwd: &Path,
    context: &mut ToolContext<'_>,
) -> String {
    match parse_patch(text) {
        Ok(patch) => apply_parsed(call_id, &patch, cwd, context).1,
        Err(error) => {
            let message = format!("apply_patch verification failed: {error}");
            report_failure(call_id, Vec::new(), &message, context);
            message
        }
    }
}

/// A `file_change` that failed before (or without) anything being written.
pub(crate) fn report_failure(
    call_id: &str,
    changes: Vec<PatchFileChange>,
    message: &str,
    context: &mut ToolContext<'_>,
) {
    (context.emit)(Event::PatchEnd {
        call_id: call_id.to_string(),
        changes,
        success: false,
        output: message.to_string(),
    });
}

/// The files a patch names, as written against `cwd` (for a failure event).
fn named_changes(patch: &Patch, cwd: &Path) -> Vec<PatchFileChange> {
    patch
        .hunks
        .iter()
        .map(|hunk| PatchFileChange {
            path: codex_sandboxing::normalize(&cwd.join(hunk.path())),
            kind: match hunk {
                Hunk::Add { .. } => PatchChangeKind::Add,
                Hunk::Delete { .. } => PatchChangeKind::Delete,
                Hunk::Update { move_to, .. } => PatchChangeKind::Update {
                    move_path: move_to
                        .as_ref()
                        .map(|to| codex_sandboxing::normalize(&cwd.join(to))),
                },
            },
            diff: String::new(),
        })
        .collect()
}

/// `(success, text for the model)`.
pub(crate) fn apply_parsed(
    call_id: &str,
    patch: &Patch,
    cwd: &Path,
    context: &mut ToolContext<'_>,
) -> (bool, String) {
    let guard = WriteGuard::for_policy(context.policy);
    let changes = match verify(patch, cwd, &guard) {
        Ok(changes) => changes,
        Err(error) => {
            let message = match &error {
                ApplyPatchError::Rejected(refusal) => refusal.to_string(),
                other => format!("apply_patch verification failed: {other}"),
            };
            report_failure(call_id, named_changes(patch, cwd), &message, context);
            return (false, message);
        }
    };
    let file_changes: Vec<PatchFileChange> = changes
        .changes()
        .iter()
        .map(|change| PatchFileChange {
            path: change.path.clone(),
            kind: match &change.kind {
                ChangeKind::Add => PatchChangeKind::Add,
                ChangeKind::Delete => PatchChangeKind::Delete,
                ChangeKind::Update { move_path } => PatchChangeKind::Update {
                    move_path: move_path.clone(),
                },
            },
            diff: change.unified_diff(),
        })
        .collect();
    let text = render_patch(patch);
    if text.len() > MAX_PATCH_BYTES {
        let message = format!(
            "apply_patch verification failed: the patch is larger than {MAX_PATCH_BYTES} bytes; split it into several smaller patches"
        );
        report_failure(call_id, file_changes, &message, context);
        return (false, message);
    }
    (context.emit)(Event::PatchBegin {
        call_id: call_id.to_string(),
        changes: file_changes.clone(),
    });
    let command = ToolCommand {
        argv: vec![
            context.codex_exe.as_os_str().to_os_string(),
            OsString::from("apply-patch"),
            OsString::from("--"),
            OsString::from(text),
        ],
        cwd: cwd.to_path_buf(),
        env: context.env.to_vec(),
        timeout: PATCH_TIMEOUT,
        max_output_bytes: 64 * 1024,
    };
    let (success, output) = match context.runner.run(&command, context.cancel) {
        Ok(outcome) if outcome.ending == CommandEnding::Exited(0) => {
            (true, String::from_utf8_lossy(&outcome.stdout).into_owned())
        }
        Ok(outcome) => {
            let mut text = String::from_utf8_lossy(&outcome.stderr)
                .trim_end()
                .to_string();
            if text.is_empty() {
                text = String::from_utf8_lossy(&outcome.aggregated)
                    .trim_end()
                    .to_string();
            }
            if text.is_empty() {
                text = format!("apply_patch exited with code {}", outcome.exit_code);
            }
            (false, text)
        }
        Err(error) => (
            false,
            format!("apply_patch could not run in the sandbox: {error}"),
        ),
    };
    (context.emit)(Event::PatchEnd {
        call_id: call_id.to_string(),
        changes: file_changes,
        success,
        output: output.clone(),
    });
    (success, output)
}

/// The patch as canonical text: each update chunk as its removed lines then its added lines
/// (the same replacement the parsed chunk describes).
fn render_patch(patch: &Patch) -> String {
    let mut text = String::from("*** Begin Patch\n");
    for hunk in &patch.hunks {
        match hunk {
            Hunk::Add { path, contents } => {
                text.push_str(&format!("*** Add File: {}\n", path.display()));
                for line in contents.lines() {
                    text.push('+');
                    text.push_str(line);
                    text.push('\n');
                }
            }
            Hunk::Delete { path } => {
                text.push_str(&format!("*** Delete File: {}\n", path.display()))
            }
            Hunk::Update {
                path,
                move_to,
                chunks,
            } => {
                text.push_str(&format!("*** Update File: {}\n", path.display()));
                if let Some(to) = move_to {
                    text.push_str(&format!("*** Move to: {}\n", to.display()));
                }
                for chunk in chunks {
                    match &chunk.context {
                        Some(context) => text.push_str(&format!("@@ {context}\n")),
                        None => text.push_str("@@\n"),
                    }
                    for line in &chunk.old_lines {
                        text.push('-');
                        text.push_str(line);
                        text.push('\n');
                    }
                    for line in &chunk.new_lines {
                        text.push('+');
                        text.push_str(line);
                        text.push('\n');
                    }
                    if chunk.end_of_file {
                        text.push_str("*** End of File\n");
                    }
                }
            }
        }
    }
    text.push_str("*** End Patch\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_patch_parses_to_the_same_patch() {
        let original = "*** Begin Patch\n*** Add File: a.txt\n+one\n+\n+three\n*** Update File: b.txt\n*** Move to: c.txt\n@@ fn main\n keep\n-old\n+new\n keep2\n@@\n+appended\n*** End of File\n*** Delete File: d.txt\n*** End Patch";
        let patch = parse_patch(original).unwrap();
        let rendered = render_patch(&patch);
        assert_eq!(parse_patch(&rendered).unwrap(), patch, "{rendered}");
    }
}
