//! The tools offered to the model, with the names and parameter shapes upstream 0.169 uses.

use codex_model_client::{ApplyPatchToolType, ToolSpec};
use serde_json::{Value, json};

pub const EXEC_COMMAND: &str = "exec_command";
pub const APPLY_PATCH: &str = "apply_patch";
pub const UPDATE_PLAN: &str = "update_plan";
pub const VIEW_IMAGE: &str = "view_image";

/// The lark grammar of the freeform `apply_patch` tool (a public format description).
const APPLY_PATCH_GRAMMAR: &str = r#"start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
"#;

fn function(name: &str, description: &str, properties: Value, required: &[&str]) -> ToolSpec {
    ToolSpec::Function {
        name: name.to_string(),
        description: description.to_string(),
        strict: false,
        parameters: json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        }),
    }
}

/// `exec_command`, `apply_patch` (freeform or function per model family), `update_plan`,
/// `view_image`.
pub fn tool_specs(apply_patch: ApplyPatchToolType) -> Vec<ToolSpec> {
    let exec_command = function(
        EXEC_COMMAND,
        "Runs a command with `bash -lc` in the sandbox and returns its exit code and output \
         (stdout and stderr interleaved; long output is cut in the middle).",
        json!({
            "cmd": {"type": "string", "description": "Shell command to execute."},
            "workdir": {"type": "string", "description": "The working directory (default: the turn's)."},
            "justification": {"type": "string", "description": "Why the command is needed (ignored: approval is `never`)."},
            "login": {"type": "boolean", "description": "Run a login shell (default true)."},
            "max_output_tokens": {"type": "number", "description": "Most output tokens returned (default 10000)."},
            "prefix_rule": {"type": "array", "items": {"type": "string"}, "description": "Ignored."},
            "sandbox_permissions": {"type": "string", "enum": ["use_default", "require_escalated"], "description": "Escalation is never granted in exec."},
            "shell": {"type": "string", "description": "Ignored: commands always run with /bin/bash."},
            "tty": {"type": "boolean", "description": "Ignored: no terminal is attached."},
            "yield_time_ms": {"type": "number", "description": "Ignored: the command runs to completion or its timeout."},
        }),
        &["cmd"],
    );
    let patch_description = "Edit files with a patch in the `*** Begin Patch` format; every hunk is \
                             checked before anything is written.";
    let apply_patch = match apply_patch {
        ApplyPatchToolType::Freeform => ToolSpec::Custom {
            name: APPLY_PATCH.to_string(),
            description: patch_description.to_string(),
            format: json!({"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_GRAMMAR}),
        },
        ApplyPatchToolType::Function => function(
            APPLY_PATCH,
            patch_description,
            json!({"input": {"type": "string", "description": "The entire patch."}}),
            &["input"],
        ),
    };
    let update_plan = function(
        UPDATE_PLAN,
        "Updates the task plan: a short list of steps, each pending, in_progress or completed \
         (at most one in_progress).",
        json!({
            "explanation": {"type": "string"},
            "plan": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "step": {"type": "string"},
                        "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                    },
                    "required": ["step", "status"],
                    "additionalProperties": false,
                },
            },
        }),
        &["plan"],
    );
    let view_image = function(
        VIEW_IMAGE,
        "Attach a local image (PNG, JPEG, GIF or WebP) from the filesystem to the conversation.",
        json!({"path": {"type": "string", "description": "Path to the image file."}}),
        &["path"],
    );
    vec![exec_command, apply_patch, update_plan, view_image]
}
