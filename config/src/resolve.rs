//! From the merged table to typed settings: permission profile selection and compilation,
//! approval policy, features and sign-in settings, with requirements applied.

use std::path::PathBuf;

use codex_sandbox_policy::{Enforcement, SandboxPolicy};
use toml::{Table, Value};

use crate::compile::{
    CompileContext, WorkspaceWriteSettings, add_deny_read, compile_legacy, compile_profile,
    implicit_workspace_body,
};
use crate::error::LoadConfigError;
use crate::features::Features;
use crate::layers::ConfigLayer;
use crate::login::LoginSettings;
use crate::permissions::{
    Builtin, PermissionsError, ResolvedProfile, check_catalog, decide_syntax, resolve_profile,
};
use crate::requirements::{Requirements, RequirementsError, SandboxClass};
use crate::shell_env::ShellEnvironmentPolicy;
use crate::types::{
    ApprovalPolicy, CredentialsStore, LoginMethod, PermissionSyntax, ProjectTrust, SandboxMode,
};

/// A value requirements changed, for `codex config show --origins`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequirementAdjustment {
    /// Dotted key in the shown configuration.
    pub key: String,
    /// What the configuration asked for (`None` when it was an implicit default).
    pub configured: Option<Value>,
    pub effective: Value,
    /// The requirement source (`requirements (<source>)` in origins).
    pub source: String,
}

/// Everything [`resolve`] decides.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub sandbox_policy: SandboxPolicy,
    pub permission_syntax: PermissionSyntax,
    pub active_permission_profile: Option<String>,
    pub approval_policy: ApprovalPolicy,
    pub approval_is_default: bool,
    pub features: Features,
    pub login: LoginSettings,
    pub shell_environment_policy: ShellEnvironmentPolicy,
    pub adjustments: Vec<RequirementAdjustment>,
}

fn workspace_write_settings(merged: &Table) -> WorkspaceWriteSettings {
    let Some(table) = merged
        .get("sandbox_workspace_write")
        .and_then(Value::as_table)
    else {
        return WorkspaceWriteSettings::default();
    };
    let flag = |key: &str| table.get(key).and_then(Value::as_bool).unwrap_or(false);
    WorkspaceWriteSettings {
        writable_roots: table
            .get("writable_roots")
            .and_then(Value::as_array)
            .map(|roots| {
                roots
                    .iter()
                    .filter_map(Value::as_str)
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default(),
        network_access: flag("network_access"),
        exclude_tmpdir_env_var: flag("exclude_tmpdir_env_var"),
        exclude_slash_tmp: flag("exclude_slash_tmp"),
    }
}

/// How permissive `policy` is, for `allowed_sandbox_modes` (upstream: full disk write is
/// danger-full-access, any writable entry is workspace-write, else read-only). A managed policy
/// that can write `/` (`":root" = "write"`, `writable_roots = ["/"]`, `"/**" = "write"`) is
/// full access in all but name.
fn classify(policy: &SandboxPolicy) -> SandboxClass {
    if policy.enforcement == Enforcement::FullAccess || policy.has_full_write() {
        SandboxClass::DangerFullAccess
    } else if policy.rules.iter().any(|rule| rule.access.can_write()) {
        SandboxClass::WorkspaceWrite
    } else {
        SandboxClass::ReadOnly
    }
}

/// Decide every typed setting from the merged configuration.
pub(crate) fn resolve(
    merged: &Table,
    layers: &[ConfigLayer],
    trust: ProjectTrust,
    requirements: &Requirements,
    context: &CompileContext,
    warnings: &mut Vec<String>,
) -> Result<Resolved, LoadConfigError> {
    let mut adjustments = Vec::new();
    let syntax = decide_syntax(layers, merged);
    let config_catalog = merged.get("permissions").and_then(Value::as_table);
    check_catalog(config_catalog)?;
    let mut catalog = config_catalog.cloned();
    for (name, profile) in &requirements.profiles {
        let catalog = catalog.get_or_insert_with(Table::new);
        if catalog.contains_key(name) {
            return Err(RequirementsError::ProfileConflict(name.clone()).into());
        }
        catalog.insert(name.clone(), Value::Table(profile.value.clone()));
    }
    if let Some(allowed) = &requirements.allowed_permissions {
        for name in &allowed.value {
            let defined = Builtin::parse(name).is_some()
                || catalog
                    .as_ref()
                    .is_some_and(|catalog| catalog.contains_key(name));
            if !defined {
                return Err(RequirementsError::UndefinedAllowedPermission(name.clone()).into());
            }
        }
    }
    let settings = workspace_write_settings(merged);
    let uses_profiles =
        requirements.allowed_permissions.is_some() || syntax != PermissionSyntax::Legacy;
    let mut active_permission_profile = None;
    let mut policy = if uses_profiles {
        let configured = merged.get("default_permissions").and_then(Value::as_str);
        let profile = match configured {
            Some(name) => {
                let mut name = name.to_string();
                if let Some(allowed) = &requirements.allowed_permissions
                    && !name.starts_with(':')
                    && !allowed.value.contains(&name)
                    && let Some(first) = allowed.value.first()
                {
                    warnings.push(format!(
                        "Configured value for `permission_profile` is disallowed by requirements; falling back from `{name}` to required value `{first}`."
                    ));
                    adjustments.push(RequirementAdjustment {
                        key: "default_permissions".into(),
                        configured: Some(Value::from(name.clone())),
                        effective: Value::from(first.clone()),
                        source: allowed.source.clone(),
                    });
                    name = first.clone();
                }
                resolve_profile(&name, catalog.as_ref())?
            }
            None => {
                let has_profiles = config_catalog.is_some_and(|catalog| !catalog.is_empty());
                if has_profiles && requirements.allowed_permissions.is_none() {
                    return Err(PermissionsError::ProfilesWithoutDefault.into());
                }
                if trust == ProjectTrust::Unknown {
                    resolve_profile(Builtin::ReadOnly.name(), None)?
                } else {
                    ResolvedProfile {
                        name: Builtin::Workspace.name().to_string(),
                        builtin: None,
                        body: implicit_workspace_body(&settings),
                    }
                }
            }
        };
        active_permission_profile = Some(profile.name.clone());
        compile_profile(&profile, context, warnings)?
    } else {
        let mode = merged
            .get("sandbox_mode")
            .and_then(Value::as_str)
            .and_then(SandboxMode::parse)
            .unwrap_or(SandboxMode::ReadOnly);
        compile_legacy(mode, &settings, context, warnings)?
    };

    let explicit_permissions = syntax != PermissionSyntax::Implicit;
    let mut full_access_fell_back = false;
    let class = classify(&policy);
    if let Err(details) = requirements.check_sandbox(class) {
        if explicit_permissions {
            warnings.push(format!(
                "Configured value for `permission_profile` is disallowed by requirements; falling back to required value ReadOnly. Details: {details}"
            ));
            full_access_fell_back = class == SandboxClass::DangerFullAccess;
        }
        let source = requirements
            .allowed_sandbox_classes()
            .map(|allowed| allowed.source)
            .unwrap_or_default();
        let (key, configured, fallback) = if uses_profiles {
            let fallback = resolve_profile(Builtin::ReadOnly.name(), None)?;
            (
                "default_permissions",
                merged.get("default_permissions").cloned(),
                compile_profile(&fallback, context, warnings)?,
            )
        } else {
            (
                "sandbox_mode",
                merged.get("sandbox_mode").cloned(),
                compile_legacy(SandboxMode::ReadOnly, &settings, context, warnings)?,
            )
        };
        adjustments.push(RequirementAdjustment {
            key: key.into(),
            configured,
            effective: Value::from(fallback.profile.clone()),
            source,
        });
        policy = fallback;
        active_permission_profile = None;
    }
    let deny_read: Vec<String> = requirements
        .deny_read
        .iter()
        .map(|entry| entry.value.clone())
        .collect();
    if !deny_read.is_empty() {
        add_deny_read(&mut policy, &deny_read, context)
            .map_err(RequirementsError::InvalidDenyGlob)?;
    }

    let configured_approval = merged
        .get("approval_policy")
        .and_then(crate::types::approval_from_value);
    let mut approval_policy = configured_approval.unwrap_or(match trust {
        ProjectTrust::Untrusted => ApprovalPolicy::Untrusted,
        ProjectTrust::Trusted | ProjectTrust::Unknown => ApprovalPolicy::OnRequest,
    });
    if let Err(details) = requirements.check_approval(approval_policy)
        && let Some(allowed) = &requirements.approval_policies
        && let Some(first) = allowed.value.first()
    {
        if configured_approval.is_some() {
            warnings.push(format!(
                "Configured value for `approval_policy` is disallowed by requirements; falling back to required value {first:?}. Details: {details}"
            ));
        }
        adjustments.push(RequirementAdjustment {
            key: "approval_policy".into(),
            configured: configured_approval.map(crate::types::approval_to_value),
            effective: crate::types::approval_to_value(*first),
            source: allowed.source.clone(),
        });
        approval_policy = *first;
    }
    if full_access_fell_back && approval_policy == ApprovalPolicy::Never {
        return Err(RequirementsError::NeverWithoutFullAccess.into());
    }

    let mut features = Features::default();
    if let Some(table) = merged.get("features").and_then(Value::as_table) {
        for (name, enabled) in table {
            if let Some(enabled) = enabled.as_bool() {
                features.set(name, enabled);
            }
        }
    }
    for (name, pinned) in &requirements.features {
        if features.enabled(name) != pinned.value {
            adjustments.push(RequirementAdjustment {
                key: format!("features.{name}"),
                configured: Some(Value::Boolean(features.enabled(name))),
                effective: Value::Boolean(pinned.value),
                source: pinned.source.clone(),
            });
        }
        features.set(name, pinned.value);
    }

    let login = resolve_login(merged, requirements, warnings, &mut adjustments);
    Ok(Resolved {
        sandbox_policy: policy,
        permission_syntax: syntax,
        active_permission_profile,
        approval_policy,
        approval_is_default: configured_approval.is_none(),
        features,
        login,
        shell_environment_policy: ShellEnvironmentPolicy::from_table(
            merged
                .get("shell_environment_policy")
                .and_then(Value::as_table),
        ),
        adjustments,
    })
}

fn resolve_login(
    merged: &Table,
    requirements: &Requirements,
    warnings: &mut Vec<String>,
    adjustments: &mut Vec<RequirementAdjustment>,
) -> LoginSettings {
    let mut login = LoginSettings::default();
    let text = |key: &str| merged.get(key).and_then(Value::as_str);
    if let Some(store) = text("cli_auth_credentials_store").and_then(CredentialsStore::parse) {
        login.credentials_store = store;
    }
    login.forced_login_method = text("forced_login_method").and_then(LoginMethod::parse);
    login.forced_chatgpt_workspace_id = match merged.get("forced_chatgpt_workspace_id") {
        Some(Value::String(id)) => vec![id.clone()],
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    if let Some(url) = text("chatgpt_base_url") {
        login.chatgpt_base_url = url.to_string();
    }

    let mut pin = |key: &str, required: Value, source: &str| {
        let configured = merged.get(key).cloned();
        if configured.as_ref() == Some(&required) {
            return;
        }
        if let Some(configured) = &configured {
            warnings.push(format!(
                "Configured value for `{key}` is overridden by requirements; using required value {required} instead of {configured} (set by {source})"
            ));
        }
        adjustments.push(RequirementAdjustment {
            key: key.to_string(),
            configured,
            effective: required,
            source: source.to_string(),
        });
    };
    if let Some(store) = &requirements.credentials_store {
        pin(
            "cli_auth_credentials_store",
            Value::from(store.value.as_str()),
            &store.source,
        );
        login.credentials_store = store.value;
    }
    if let Some(method) = &requirements.forced_login_method {
        pin(
            "forced_login_method",
            Value::from(method.value.as_str()),
            &method.source,
        );
        login.forced_login_method = Some(method.value);
    }
    if let Some(ids) = &requirements.forced_chatgpt_workspace_id {
        let value = match ids.value.as_slice() {
            [single] => Value::from(single.clone()),
            many => Value::Array(many.iter().cloned().map(Value::from).collect()),
        };
        pin("forced_chatgpt_workspace_id", value, &ids.source);
        login.forced_chatgpt_workspace_id = ids.value.clone();
    }
    if let Some(url) = &requirements.chatgpt_base_url {
        pin(
            "chatgpt_base_url",
            Value::from(url.value.clone()),
            &url.source,
        );
        login.chatgpt_base_url = url.value.clone();
    }
    login
}
