//! Administrator requirements: `<system dir>/requirements.toml` and the legacy
//! `managed_config.toml` reinterpreted as constraints.
//!
//! Sources implement [`RequirementsSource`]; MDM or cloud sources would be further
//! implementations appended to the list in precedence order (lowest first).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use codex_sandbox_policy::normalize;

use crate::diagnostics::{SpanPart, parse_file};
use crate::error::LoadConfigError;
use crate::features::is_known_feature;
use crate::format::{
    UNENFORCEABLE_REQUIREMENT_KEYS, UNSUPPORTED_REQUIREMENT_KEYS, requirements_schema,
};
use crate::layers::{FileRole, read_optional};
use crate::paths::{
    deny_glob_pattern, expand_tilde_with, glob_escape, glob_literal, requirement_home_dirs,
};
use crate::schema::{IssueKind, validate};
use crate::types::{ApprovalPolicy, CredentialsStore, LoginMethod};

/// Requirements that cannot be satisfied or are malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequirementsError {
    #[error("in `deny_read`: {0}")]
    InvalidDenyGlob(codex_sandbox_policy::GlobError),
    /// Upstream text.
    #[error("field `{0}` cannot be empty")]
    EmptyField(&'static str),
    #[error(
        "invalid value for `allowed_sandbox_modes`: must include 'read-only' to allow any PermissionProfile (set by {0})"
    )]
    SandboxModesWithoutReadOnly(String),
    /// Upstream text.
    #[error("requirements.toml allowed_permissions must include at least one profile")]
    EmptyAllowedPermissions,
    /// Upstream text.
    #[error("requirements.toml allowed_permissions refers to undefined profile `{0}`")]
    UndefinedAllowedPermission(String),
    /// Upstream text.
    #[error(
        "requirements.toml permissions profile `{0}` conflicts with a config-defined profile of the same name"
    )]
    ProfileConflict(String),
    /// A requirement this build cannot enforce constrains the sandbox or the network: refusing
    /// is the only way not to drop it silently.
    #[error(
        "requirement `{key}` (set by {set_by}) constrains the sandbox or network but is not supported by this version of Codex; remove it from the requirements or upgrade Codex"
    )]
    Unenforceable { key: String, set_by: String },
    #[error(
        "requirements `deny_read` entry `{0}` uses `~`, but no home directory is known for this user; use an absolute path"
    )]
    DenyReadWithoutHome(String),
    #[error(
        "requirements `deny_read` entry `{0}` resolves to a path that is not valid UTF-8; use an absolute path"
    )]
    DenyReadNotUtf8(String),
    #[error(
        "`approval_policy = \"never\"` cannot be used because requirements do not allow `sandbox_mode = \"danger-full-access\"`; Codex would fall back to read-only permissions with approvals disabled. Choose `approval_policy = \"on-request\"` or an allowed sandbox mode instead"
    )]
    NeverWithoutFullAccess,
}

/// One source's requirements as a TOML table (same shape as `requirements.toml`).
#[derive(Debug, Clone)]
pub struct RequirementsLayer {
    /// Shown in messages as `(set by <source>)`.
    pub source: String,
    pub table: Table,
}

/// Something that may contribute requirements.
pub trait RequirementsSource {
    fn load(&self) -> Result<Option<RequirementsLayer>, LoadConfigError>;
}

/// `<system dir>/requirements.toml`.
pub(crate) struct SystemRequirementsFile {
    pub path: PathBuf,
}

impl RequirementsSource for SystemRequirementsFile {
    fn load(&self) -> Result<Option<RequirementsLayer>, LoadConfigError> {
        let Some(text) = read_optional(&self.path, FileRole::Requirements)? else {
            return Ok(None);
        };
        let (mut table, file) = parse_file(&self.path, text)?;
        let issues = validate(&requirements_schema(), &table);
        if let Some(issue) = issues.iter().find_map(|issue| match &issue.kind {
            IssueKind::Invalid(message) => Some((issue, message)),
            IssueKind::UnknownKey => None,
        }) {
            let (issue, message) = issue;
            return Err(crate::diagnostics::ConfigDiagnostic {
                location: file.locate(&issue.path, SpanPart::Value),
                message: message.clone(),
            }
            .into());
        }
        let base = self.path.parent().unwrap_or(Path::new("/"));
        let homes = requirement_home_dirs();
        resolve_deny_read(&mut table, base, &homes)?;
        if let Some(home) = homes.first() {
            pin_profile_home(&mut table, home);
        }
        Ok(Some(RequirementsLayer {
            source: self.path.display().to_string(),
            table,
        }))
    }
}

/// The legacy `managed_config.toml`: `approval_policy = X` allows only `X`; `sandbox_mode = M`
/// allows `read-only` and `M`.
pub(crate) struct LegacyManagedRequirements {
    pub path: PathBuf,
    pub config: Table,
}

impl RequirementsSource for LegacyManagedRequirements {
    fn load(&self) -> Result<Option<RequirementsLayer>, LoadConfigError> {
        let mut table = Table::new();
        if let Some(policy) = self.config.get("approval_policy") {
            table.insert(
                "allowed_approval_policies".into(),
                Value::Array(vec![policy.clone()]),
            );
        }
        if let Some(mode) = self.config.get("sandbox_mode").and_then(Value::as_str) {
            let mut modes = vec![Value::from("read-only")];
            if mode != "read-only" {
                modes.push(Value::from(mode));
            }
            table.insert("allowed_sandbox_modes".into(), Value::Array(modes));
        }
        if table.is_empty() {
            return Ok(None);
        }
        Ok(Some(RequirementsLayer {
            source: self.path.display().to_string(),
            table,
        }))
    }
}

/// Resolve `[permissions.filesystem] deny_read` in place into absolute patterns in glob syntax:
/// relative entries against `base`, `~` against every home in `homes` (the account's from the
/// password database, and `$HOME` when it differs: `$HOME` belongs to the user being
/// constrained, so it may add denials but never move them). Directories that come from `base`
/// or a home are glob-escaped, so only what the administrator wrote can be a glob.
pub(crate) fn resolve_deny_read(
    table: &mut Table,
    base: &Path,
    homes: &[PathBuf],
) -> Result<(), RequirementsError> {
    let deny_read = table
        .get_mut("permissions")
        .and_then(|permissions| permissions.get_mut("filesystem"))
        .and_then(|filesystem| filesystem.get_mut("deny_read"))
        .and_then(Value::as_array_mut);
    let Some(entries) = deny_read else {
        return Ok(());
    };
    let mut resolved = Vec::with_capacity(entries.len());
    for entry in entries.iter() {
        match entry {
            Value::String(text) => resolved.extend(
                resolve_deny_read_entry(text, base, homes)?
                    .into_iter()
                    .map(Value::String),
            ),
            other => resolved.push(other.clone()),
        }
    }
    *entries = resolved;
    Ok(())
}

fn resolve_deny_read_entry(
    text: &str,
    base: &Path,
    homes: &[PathBuf],
) -> Result<Vec<String>, RequirementsError> {
    let targets: Vec<(PathBuf, &str)> = if text == "~" || text.starts_with("~/") {
        if homes.is_empty() {
            return Err(RequirementsError::DenyReadWithoutHome(text.to_string()));
        }
        let rest = text.trim_start_matches('~').trim_start_matches('/');
        homes.iter().map(|home| (home.clone(), rest)).collect()
    } else if Path::new(text).is_absolute() {
        vec![(PathBuf::from("/"), text)]
    } else {
        vec![(base.to_path_buf(), text)]
    };
    let mut patterns = Vec::with_capacity(targets.len());
    for (prefix, written) in targets {
        let pattern = match glob_literal(written) {
            // Escapes written by the administrator (`\[`) are literal characters.
            Some(literal) => normalize(&prefix.join(literal)).to_str().map(glob_escape),
            None => deny_glob_pattern(&prefix, written),
        };
        let pattern =
            pattern.ok_or_else(|| RequirementsError::DenyReadNotUtf8(text.to_string()))?;
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    Ok(patterns)
}

/// Expand `~` in the path keys of managed permission profiles (`filesystem`, `workspace_roots`,
/// `network.unix_sockets`) with the account's home directory, so `$HOME` cannot move them.
/// Skipped when that directory has glob syntax or is not UTF-8 (it could not be written as a
/// literal key); `~` then follows `$HOME` like in user profiles.
fn pin_profile_home(table: &mut Table, home: &Path) {
    let Some(home_text) = home.to_str().filter(|text| glob_escape(text) == *text) else {
        return;
    };
    let home = Path::new(home_text);
    let Some(Value::Table(permissions)) = table.get_mut("permissions") else {
        return;
    };
    for (name, profile) in permissions.iter_mut() {
        if name == "filesystem" {
            continue;
        }
        let Value::Table(profile) = profile else {
            continue;
        };
        for path in [
            &["filesystem"][..],
            &["workspace_roots"],
            &["network", "unix_sockets"],
        ] {
            let mut current = Some(&mut *profile);
            for segment in path {
                current = current
                    .and_then(|table| table.get_mut(*segment))
                    .and_then(Value::as_table_mut);
            }
            if let Some(entries) = current {
                let keys: Vec<String> = entries
                    .keys()
                    .filter(|key| key.as_str() == "~" || key.starts_with("~/"))
                    .cloned()
                    .collect();
                for key in keys {
                    if let Some(expanded) = expand_tilde_with(&key, home)
                        && let Some(value) = entries.remove(&key)
                    {
                        entries.insert(expanded.to_string_lossy().into_owned(), value);
                    }
                }
            }
        }
    }
}

/// A constraint with the source that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sourced<T> {
    pub value: T,
    pub source: String,
}

/// The composed requirements (higher sources replace lower ones per field; `deny_read` is a
/// union).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Requirements {
    pub approval_policies: Option<Sourced<Vec<ApprovalPolicy>>>,
    pub sandbox_modes: Option<Sourced<Vec<SandboxClass>>>,
    pub allowed_permissions: Option<Sourced<Vec<String>>>,
    pub deny_read: Vec<Sourced<String>>,
    pub features: BTreeMap<String, Sourced<bool>>,
    pub forced_login_method: Option<Sourced<LoginMethod>>,
    pub forced_chatgpt_workspace_id: Option<Sourced<Vec<String>>>,
    pub credentials_store: Option<Sourced<CredentialsStore>>,
    pub chatgpt_base_url: Option<Sourced<String>>,
    pub profiles: BTreeMap<String, Sourced<Table>>,
    pub warnings: Vec<String>,
}

/// How permissive a compiled policy is, for `allowed_sandbox_modes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SandboxClass {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
    ExternalSandbox,
}

impl SandboxClass {
    fn parse(text: &str) -> Option<SandboxClass> {
        match text {
            "read-only" => Some(SandboxClass::ReadOnly),
            "workspace-write" => Some(SandboxClass::WorkspaceWrite),
            "danger-full-access" => Some(SandboxClass::DangerFullAccess),
            "external-sandbox" => Some(SandboxClass::ExternalSandbox),
            _ => None,
        }
    }
}

/// Load every source in order and compose them.
pub(crate) fn load_requirements(
    sources: &[&dyn RequirementsSource],
) -> Result<Requirements, LoadConfigError> {
    let mut requirements = Requirements::default();
    for source in sources {
        if let Some(layer) = source.load()? {
            requirements.apply_layer(&layer)?;
        }
    }
    Ok(requirements)
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

impl Requirements {
    /// Keys the schema does not define: unenforceable sandbox or network constraints (anything
    /// unknown below `permissions` included) are errors; everything else is ignored with a
    /// warning naming the key.
    fn check_unknown_keys(&mut self, layer: &RequirementsLayer) -> Result<(), RequirementsError> {
        let mut reported: Vec<String> = Vec::new();
        for issue in validate(&requirements_schema(), &layer.table) {
            if issue.kind != IssueKind::UnknownKey {
                continue;
            }
            let Some(top) = issue.path.first() else {
                continue;
            };
            if top == "permissions" || UNENFORCEABLE_REQUIREMENT_KEYS.contains(&top.as_str()) {
                return Err(RequirementsError::Unenforceable {
                    key: issue.dotted_path(),
                    set_by: layer.source.clone(),
                });
            }
            if reported.contains(top) {
                continue;
            }
            reported.push(top.clone());
            self.warnings
                .push(if UNSUPPORTED_REQUIREMENT_KEYS.contains(&top.as_str()) {
                    format!(
                        "Ignoring requirement `{top}` from {}: this version of Codex does not support it",
                        layer.source
                    )
                } else {
                    format!(
                        "Ignoring unknown requirement `{}` from {}",
                        issue.dotted_path(),
                        layer.source
                    )
                });
        }
        Ok(())
    }

    fn apply_layer(&mut self, layer: &RequirementsLayer) -> Result<(), RequirementsError> {
        self.check_unknown_keys(layer)?;
        let table = &layer.table;
        fn with_source<T>(value: T, layer: &RequirementsLayer) -> Sourced<T> {
            Sourced {
                value,
                source: layer.source.clone(),
            }
        }
        if let Some(items) = table
            .get("allowed_approval_policies")
            .and_then(Value::as_array)
        {
            if items.is_empty() {
                return Err(RequirementsError::EmptyField("allowed_approval_policies"));
            }
            let policies = items
                .iter()
                .filter_map(crate::types::approval_from_value)
                .collect();
            self.approval_policies = Some(with_source(policies, layer));
        }
        if let Some(items) = table.get("allowed_sandbox_modes").and_then(Value::as_array) {
            if items.is_empty() {
                return Err(RequirementsError::EmptyField("allowed_sandbox_modes"));
            }
            let modes: Vec<SandboxClass> = items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(SandboxClass::parse)
                .collect();
            if !modes.contains(&SandboxClass::ReadOnly) {
                return Err(RequirementsError::SandboxModesWithoutReadOnly(
                    layer.source.clone(),
                ));
            }
            self.sandbox_modes = Some(with_source(modes, layer));
        }
        if let Some(items) = table.get("allowed_permissions") {
            let names = strings(items);
            if names.is_empty() {
                return Err(RequirementsError::EmptyAllowedPermissions);
            }
            self.allowed_permissions = Some(with_source(names, layer));
        }
        if let Some(Value::Table(permissions)) = table.get("permissions") {
            for (name, profile) in permissions {
                if name == "filesystem" {
                    let deny_read = profile.get("deny_read").map(strings).unwrap_or_default();
                    for entry in deny_read {
                        if !self
                            .deny_read
                            .iter()
                            .any(|existing| existing.value == entry)
                        {
                            self.deny_read.push(with_source(entry, layer));
                        }
                    }
                } else if let Value::Table(profile) = profile {
                    self.profiles
                        .insert(name.clone(), with_source(profile.clone(), layer));
                }
            }
        }
        let feature_tables = ["features", "feature_requirements"]
            .iter()
            .filter_map(|key| table.get(*key).and_then(Value::as_table));
        for features in feature_tables {
            for (name, enabled) in features {
                let Some(enabled) = enabled.as_bool() else {
                    continue;
                };
                if is_known_feature(name) {
                    self.features
                        .insert(name.clone(), with_source(enabled, layer));
                } else {
                    self.warnings.push(format!(
                        "Ignoring unknown `features` requirement `{name}` from {}",
                        layer.source
                    ));
                }
            }
        }
        if let Some(method) = table
            .get("forced_login_method")
            .and_then(Value::as_str)
            .and_then(LoginMethod::parse)
        {
            self.forced_login_method = Some(with_source(method, layer));
        }
        if let Some(ids) = table.get("forced_chatgpt_workspace_id") {
            self.forced_chatgpt_workspace_id = Some(with_source(strings(ids), layer));
        }
        if let Some(store) = table
            .get("cli_auth_credentials_store")
            .and_then(Value::as_str)
            .and_then(CredentialsStore::parse)
        {
            self.credentials_store = Some(with_source(store, layer));
        }
        if let Some(url) = table.get("chatgpt_base_url").and_then(Value::as_str) {
            self.chatgpt_base_url = Some(with_source(url.to_string(), layer));
        }
        Ok(())
    }

    /// `Err(details)` when `candidate` is not an allowed approval policy.
    pub fn check_approval(&self, candidate: ApprovalPolicy) -> Result<(), String> {
        match &self.approval_policies {
            Some(allowed) if !allowed.value.contains(&candidate) => Err(format!(
                "invalid value for `approval_policy`: `{candidate:?}` is not in the allowed set {:?} (set by {})",
                allowed.value, allowed.source
            )),
            _ => Ok(()),
        }
    }

    /// The allowed sandbox classes (with their source) after `deny_read` removes full access.
    pub fn allowed_sandbox_classes(&self) -> Option<Sourced<Vec<SandboxClass>>> {
        let mut allowed = self.sandbox_modes.clone();
        if let Some(first) = self.deny_read.first() {
            let restricted = [SandboxClass::ReadOnly, SandboxClass::WorkspaceWrite];
            allowed = Some(match allowed {
                Some(mut allowed) => {
                    allowed.value.retain(|class| restricted.contains(class));
                    allowed
                }
                None => Sourced {
                    value: restricted.to_vec(),
                    source: first.source.clone(),
                },
            });
        }
        allowed
    }

    /// `Err(details)` when a policy of `class` is not allowed.
    pub fn check_sandbox(&self, class: SandboxClass) -> Result<(), String> {
        match self.allowed_sandbox_classes() {
            Some(allowed) if !allowed.value.contains(&class) => Err(format!(
                "invalid value for `sandbox_mode`: `{class:?}` is not in the allowed set {:?} (set by {})",
                allowed.value, allowed.source
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "requirements_tests.rs"]
mod tests;
