//! Small resolved enums of the configuration.

use std::fmt;

use toml::Value;

/// Legacy `sandbox_mode` (shared with the approval presets).
pub use codex_utils_approval_presets::SandboxMode;

/// `approval_policy` (shared with the approval presets and the agent).
pub use codex_utils_approval_presets::{ApprovalPolicy, GranularApproval};

/// `approval_policy` from a validated TOML value (a name or `{ granular = { … } }`).
pub(crate) fn approval_from_value(value: &Value) -> Option<ApprovalPolicy> {
    match value {
        Value::String(text) => ApprovalPolicy::parse(text),
        Value::Table(table) => {
            let granular = table.get("granular")?.as_table()?;
            let flag = |name: &str| granular.get(name).and_then(Value::as_bool);
            Some(ApprovalPolicy::Granular(GranularApproval {
                sandbox_approval: flag("sandbox_approval").unwrap_or(false),
                rules: flag("rules").unwrap_or(false),
                mcp_elicitations: flag("mcp_elicitations").unwrap_or(false),
                skill_approval: flag("skill_approval").unwrap_or(false),
                request_permissions: flag("request_permissions").unwrap_or(false),
            }))
        }
        _ => None,
    }
}

/// The TOML spelling of `policy`, for `codex config show`.
pub(crate) fn approval_to_value(policy: ApprovalPolicy) -> Value {
    match policy {
        ApprovalPolicy::Granular(granular) => {
            let mut inner = toml::Table::new();
            for (name, flag) in [
                ("sandbox_approval", granular.sandbox_approval),
                ("rules", granular.rules),
                ("mcp_elicitations", granular.mcp_elicitations),
                ("skill_approval", granular.skill_approval),
                ("request_permissions", granular.request_permissions),
            ] {
                inner.insert(name.to_string(), Value::Boolean(flag));
            }
            let mut outer = toml::Table::new();
            outer.insert("granular".to_string(), Value::Table(inner));
            Value::Table(outer)
        }
        other => Value::String(other.as_str().to_string()),
    }
}

/// Which permission syntax decided the sandbox (upstream "permission config syntax").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionSyntax {
    /// `sandbox_mode` (+ `[sandbox_workspace_write]`).
    Legacy,
    /// `default_permissions` + `[permissions.<name>]`.
    Profiles,
    /// Neither was set: the trust-dependent built-in default.
    Implicit,
}

/// Where credentials are kept (`cli_auth_credentials_store`); the one type the sign-in code
/// uses too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialsStore {
    /// `$CODEX_HOME/auth.json` (the default).
    #[default]
    File,
    /// The OS keyring only (the file is removed after a successful save).
    Keyring,
    /// The keyring when it works, else the file.
    Auto,
    /// Process memory only; nothing touches the disk.
    Ephemeral,
}

impl CredentialsStore {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialsStore::File => "file",
            CredentialsStore::Keyring => "keyring",
            CredentialsStore::Auto => "auto",
            CredentialsStore::Ephemeral => "ephemeral",
        }
    }

    pub fn parse(text: &str) -> Option<CredentialsStore> {
        match text {
            "file" => Some(CredentialsStore::File),
            "keyring" => Some(CredentialsStore::Keyring),
            "auto" => Some(CredentialsStore::Auto),
            "ephemeral" => Some(CredentialsStore::Ephemeral),
            _ => None,
        }
    }
}

/// A way to sign in, as `forced_login_method` names it; the one type the sign-in code uses too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    Chatgpt,
    Api,
}

impl LoginMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Chatgpt => "chatgpt",
            LoginMethod::Api => "api",
        }
    }

    pub fn parse(text: &str) -> Option<LoginMethod> {
        match text {
            "chatgpt" => Some(LoginMethod::Chatgpt),
            "api" => Some(LoginMethod::Api),
            _ => None,
        }
    }
}

/// The trust decision for the working directory's project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectTrust {
    Trusted,
    Untrusted,
    /// No `[projects]` entry applies.
    Unknown,
}

impl fmt::Display for ProjectTrust {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ProjectTrust::Trusted => "trusted",
            ProjectTrust::Untrusted => "untrusted",
            ProjectTrust::Unknown => "unknown",
        })
    }
}
