//! Small resolved enums of the configuration.

use std::fmt;

use toml::Value;

/// Legacy `sandbox_mode` (shared with the approval presets).
pub use codex_utils_approval_presets::SandboxMode;

/// The `granular` form of `approval_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GranularApproval {
    pub sandbox_approval: bool,
    pub rules: bool,
    pub mcp_elicitations: bool,
    pub skill_approval: bool,
    pub request_permissions: bool,
}

/// When the agent asks before running a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApprovalPolicy {
    Untrusted,
    OnFailure,
    #[default]
    OnRequest,
    Never,
    Granular(GranularApproval),
}

impl ApprovalPolicy {
    /// The kebab-case name (`granular` for the table form).
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Untrusted => "untrusted",
            ApprovalPolicy::OnFailure => "on-failure",
            ApprovalPolicy::OnRequest => "on-request",
            ApprovalPolicy::Never => "never",
            ApprovalPolicy::Granular(_) => "granular",
        }
    }

    /// From a validated TOML value (a name or `{ granular = { … } }`).
    pub(crate) fn from_value(value: &Value) -> Option<ApprovalPolicy> {
        match value {
            Value::String(text) => match text.as_str() {
                "untrusted" => Some(ApprovalPolicy::Untrusted),
                "on-failure" => Some(ApprovalPolicy::OnFailure),
                "on-request" => Some(ApprovalPolicy::OnRequest),
                "never" => Some(ApprovalPolicy::Never),
                _ => None,
            },
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

    /// The TOML spelling, for `codex config show`.
    pub(crate) fn to_value(self) -> Value {
        match self {
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

/// Where credentials are stored (`cli_auth_credentials_store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialsStore {
    #[default]
    File,
    Keyring,
    Auto,
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

/// `forced_login_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForcedLoginMethod {
    Chatgpt,
    Api,
}

impl ForcedLoginMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ForcedLoginMethod::Chatgpt => "chatgpt",
            ForcedLoginMethod::Api => "api",
        }
    }

    pub fn parse(text: &str) -> Option<ForcedLoginMethod> {
        match text {
            "chatgpt" => Some(ForcedLoginMethod::Chatgpt),
            "api" => Some(ForcedLoginMethod::Api),
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
