//! The built-in combinations of approval policy and sandbox mode offered to users.
//!
//! - [`builtin_approval_presets`]: Read Only, Auto, Full Access (in that order).
//! - [`find_approval_preset`]: look one up by id.
//! - [`ApprovalPolicy`] (with [`GranularApproval`]), [`SandboxMode`]: their values, spelled as in
//!   `config.toml`; the one definition every crate uses.

use std::fmt;

/// The `granular` form of `approval_policy`: which kinds of request the agent may ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct GranularApproval {
    pub sandbox_approval: bool,
    pub rules: bool,
    pub mcp_elicitations: bool,
    pub skill_approval: bool,
    pub request_permissions: bool,
}

/// When the agent asks before running a command (the one type for every crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ApprovalPolicy {
    /// Ask before anything that is not known to be safe.
    Untrusted,
    /// Run in the sandbox; ask only when a command fails there.
    OnFailure,
    /// Run in the sandbox; the agent asks when it needs more than the sandbox allows.
    #[default]
    OnRequest,
    /// Never ask.
    Never,
    /// `{ granular = { … } }`.
    Granular(GranularApproval),
}

impl ApprovalPolicy {
    /// The `approval_policy` value in `config.toml` (`granular` for the table form).
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Untrusted => "untrusted",
            ApprovalPolicy::OnFailure => "on-failure",
            ApprovalPolicy::OnRequest => "on-request",
            ApprovalPolicy::Never => "never",
            ApprovalPolicy::Granular(_) => "granular",
        }
    }

    /// A named policy (`untrusted`, `on-failure`, `on-request`, `never`).
    pub fn parse(text: &str) -> Option<ApprovalPolicy> {
        match text {
            "untrusted" => Some(ApprovalPolicy::Untrusted),
            "on-failure" => Some(ApprovalPolicy::OnFailure),
            "on-request" => Some(ApprovalPolicy::OnRequest),
            "never" => Some(ApprovalPolicy::Never),
            _ => None,
        }
    }
}

impl fmt::Display for ApprovalPolicy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What the sandbox lets commands do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SandboxMode {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
}

impl SandboxMode {
    /// The legacy `sandbox_mode` value in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::DangerFullAccess => "danger-full-access",
        }
    }

    /// The built-in permission profile with the same meaning.
    /// Parse a `sandbox_mode` value (`read-only`, `workspace-write`, `danger-full-access`).
    pub fn parse(text: &str) -> Option<SandboxMode> {
        match text {
            "read-only" => Some(SandboxMode::ReadOnly),
            "workspace-write" => Some(SandboxMode::WorkspaceWrite),
            "danger-full-access" => Some(SandboxMode::DangerFullAccess),
            _ => None,
        }
    }

    pub fn builtin_permission_profile(self) -> &'static str {
        match self {
            SandboxMode::ReadOnly => ":read-only",
            SandboxMode::WorkspaceWrite => ":workspace",
            SandboxMode::DangerFullAccess => ":danger-full-access",
        }
    }
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One choice in the approvals picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalPreset {
    /// Stable identifier (`read-only`, `auto`, `full-access`).
    pub id: &'static str,
    /// Short name shown to the user.
    pub label: &'static str,
    /// What the agent may do without asking, in a sentence or two.
    pub description: &'static str,
    pub approval: ApprovalPolicy,
    pub sandbox: SandboxMode,
}

/// The presets, from most to least restrictive.
pub fn builtin_approval_presets() -> Vec<ApprovalPreset> {
    vec![
        ApprovalPreset {
            id: "read-only",
            label: "Read Only",
            description: "Codex can look at files and answer questions. It asks before editing \
                          files, running commands that change anything, or using the network.",
            approval: ApprovalPolicy::OnRequest,
            sandbox: SandboxMode::ReadOnly,
        },
        ApprovalPreset {
            id: "auto",
            label: "Auto",
            description: "Codex can read files, edit them in the workspace and run commands \
                          there. It asks before writing outside the workspace or using the \
                          network.",
            approval: ApprovalPolicy::OnRequest,
            sandbox: SandboxMode::WorkspaceWrite,
        },
        ApprovalPreset {
            id: "full-access",
            label: "Full Access",
            description: "Codex can edit any file and use the network without asking and \
                          without a sandbox. Use it only inside an isolated environment such \
                          as a container or a virtual machine.",
            approval: ApprovalPolicy::Never,
            sandbox: SandboxMode::DangerFullAccess,
        },
    ]
}

/// The preset with this id (`default` is accepted as another name for `auto`).
pub fn find_approval_preset(id: &str) -> Option<ApprovalPreset> {
    let id = if id == "default" { "auto" } else { id };
    builtin_approval_presets()
        .into_iter()
        .find(|preset| preset.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_in_order_with_their_policies() {
        let summary: Vec<(&str, &str, &str, &str)> = builtin_approval_presets()
            .iter()
            .map(|preset| {
                (
                    preset.id,
                    preset.label,
                    preset.approval.as_str(),
                    preset.sandbox.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("read-only", "Read Only", "on-request", "read-only"),
                ("auto", "Auto", "on-request", "workspace-write"),
                ("full-access", "Full Access", "never", "danger-full-access"),
            ]
        );
    }

    #[test]
    fn descriptions_are_one_line_prose() {
        for preset in builtin_approval_presets() {
            assert!(!preset.description.contains("  "), "{}", preset.id);
            assert!(!preset.description.contains('\n'), "{}", preset.id);
            assert!(preset.description.ends_with('.'), "{}", preset.id);
        }
    }

    #[test]
    fn lookup_by_id_and_default_alias() {
        assert_eq!(
            find_approval_preset("full-access").map(|preset| preset.sandbox),
            Some(SandboxMode::DangerFullAccess)
        );
        assert_eq!(
            find_approval_preset("default").map(|preset| preset.id),
            Some("auto")
        );
        assert_eq!(find_approval_preset("yolo"), None);
    }

    #[test]
    fn config_spellings() {
        assert_eq!(ApprovalPolicy::Untrusted.to_string(), "untrusted");
        assert_eq!(ApprovalPolicy::OnFailure.to_string(), "on-failure");
        assert_eq!(SandboxMode::WorkspaceWrite.to_string(), "workspace-write");
        assert_eq!(
            SandboxMode::ReadOnly.builtin_permission_profile(),
            ":read-only"
        );
        assert_eq!(
            SandboxMode::WorkspaceWrite.builtin_permission_profile(),
            ":workspace"
        );
        assert_eq!(
            SandboxMode::DangerFullAccess.builtin_permission_profile(),
            ":danger-full-access"
        );
    }
}
