//! Permission profiles: which syntax decides, built-ins, and `extends` chains.

use toml::{Table, Value};

use crate::layers::{ConfigLayer, LayerSource};
use crate::merge::{EmptyTable, merge_tables};
use crate::types::PermissionSyntax;

/// A permission profile could not be resolved or compiled. Texts follow upstream where it has
/// one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionsError {
    #[error("default_permissions refers to undefined profile `{0}`")]
    UndefinedProfile(String),
    #[error("default_permissions requires a `[permissions]` table: profile `{0}` is not defined")]
    MissingPermissionsTable(String),
    #[error("default_permissions refers to unknown built-in profile `{0}`")]
    UnknownBuiltin(String),
    #[error("permissions profile `{profile}` extends undefined profile `{parent}`")]
    ExtendsUndefined { profile: String, parent: String },
    #[error(
        "permissions profile `{profile}` cannot extend unsupported built-in profile `{parent}`"
    )]
    CannotExtendBuiltin { profile: String, parent: String },
    #[error("permissions profile inheritance cycle detected: {0}")]
    Cycle(String),
    #[error("permissions profile `{0}` uses a reserved built-in profile prefix")]
    ReservedPrefix(String),
    #[error("config defines `[permissions]` profiles but does not set `default_permissions`")]
    ProfilesWithoutDefault,
    #[error("filesystem path `{0}` must be absolute, use `~/...`, or start with `:`")]
    RelativePath(String),
    #[error("filesystem path `{0}` does not support nested entries")]
    NestedNotSupported(String),
    #[error("filesystem subpath `{0}` must be a descendant path without `.` or `..` components")]
    InvalidSubpath(String),
    #[error(
        "filesystem glob path `{0}` only supports `deny` access; use an exact path or trailing `/**` for a whole subtree"
    )]
    GlobAccess(String),
    #[error("unix socket path `{0}` must be absolute or use `~/...`")]
    RelativeSocketPath(String),
}

/// The built-in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    ReadOnly,
    Workspace,
    DangerFullAccess,
}

impl Builtin {
    /// `:read-only`, `:workspace`, `:danger-full-access` (also spelled `:danger-no-sandbox`).
    pub fn parse(name: &str) -> Option<Builtin> {
        match name {
            ":read-only" => Some(Builtin::ReadOnly),
            ":workspace" => Some(Builtin::Workspace),
            ":danger-full-access" | ":danger-no-sandbox" => Some(Builtin::DangerFullAccess),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::ReadOnly => ":read-only",
            Builtin::Workspace => ":workspace",
            Builtin::DangerFullAccess => ":danger-full-access",
        }
    }

    /// The profile table a built-in stands for (`None` for full access, which has no table and
    /// cannot be extended).
    pub fn body(self) -> Option<Table> {
        let mut filesystem = Table::new();
        filesystem.insert(":root".into(), "read".into());
        match self {
            Builtin::ReadOnly => {}
            Builtin::Workspace => {
                let mut roots = Table::new();
                for (subpath, access) in [
                    (".", "write"),
                    (".git", "read"),
                    (".agents", "read"),
                    (".codex", "read"),
                ] {
                    roots.insert(subpath.into(), access.into());
                }
                filesystem.insert(":workspace_roots".into(), Value::Table(roots));
                filesystem.insert(":slash_tmp".into(), "write".into());
                filesystem.insert(":tmpdir".into(), "write".into());
            }
            Builtin::DangerFullAccess => return None,
        }
        let mut body = Table::new();
        body.insert("filesystem".into(), Value::Table(filesystem));
        Some(body)
    }
}

/// A profile after `extends` is applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolvedProfile {
    pub name: String,
    /// Set when the selection is a built-in (not a user profile extending one).
    pub builtin: Option<Builtin>,
    /// Merged `workspace_roots`, `filesystem`, `network` (no `description`/`extends`).
    pub body: Table,
}

/// Reject user profile names that use the built-in `:` prefix.
pub(crate) fn check_catalog(catalog: Option<&Table>) -> Result<(), PermissionsError> {
    if let Some(name) = catalog
        .into_iter()
        .flat_map(Table::keys)
        .find(|name| name.starts_with(':'))
    {
        return Err(PermissionsError::ReservedPrefix(name.clone()));
    }
    Ok(())
}

/// Resolve the selected profile `name` against the `[permissions]` catalog.
pub(crate) fn resolve_profile(
    name: &str,
    catalog: Option<&Table>,
) -> Result<ResolvedProfile, PermissionsError> {
    if name.starts_with(':') {
        let builtin = Builtin::parse(name)
            .ok_or_else(|| PermissionsError::UnknownBuiltin(name.to_string()))?;
        return Ok(ResolvedProfile {
            name: builtin.name().to_string(),
            builtin: Some(builtin),
            body: builtin.body().unwrap_or_default(),
        });
    }
    let Some(catalog) = catalog else {
        return Err(PermissionsError::MissingPermissionsTable(name.to_string()));
    };
    if !catalog.contains_key(name) {
        return Err(PermissionsError::UndefinedProfile(name.to_string()));
    }
    let body = resolve_chain(name, catalog, &mut Vec::new())?;
    Ok(ResolvedProfile {
        name: name.to_string(),
        builtin: None,
        body,
    })
}

fn resolve_chain(
    name: &str,
    catalog: &Table,
    stack: &mut Vec<String>,
) -> Result<Table, PermissionsError> {
    if let Some(start) = stack.iter().position(|entry| entry == name) {
        let mut chain: Vec<&str> = stack[start..].iter().map(String::as_str).collect();
        chain.push(name);
        return Err(PermissionsError::Cycle(chain.join(" -> ")));
    }
    let profile = catalog
        .get(name)
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    stack.push(name.to_string());
    let mut body =
        match profile.get("extends").and_then(Value::as_str) {
            None => Table::new(),
            Some(parent) if parent.starts_with(':') => Builtin::parse(parent)
                .and_then(Builtin::body)
                .ok_or_else(|| PermissionsError::CannotExtendBuiltin {
                    profile: name.to_string(),
                    parent: parent.to_string(),
                })?,
            Some(parent) if !catalog.contains_key(parent) => {
                return Err(PermissionsError::ExtendsUndefined {
                    profile: name.to_string(),
                    parent: parent.to_string(),
                });
            }
            Some(parent) => resolve_chain(parent, catalog, stack)?,
        };
    stack.pop();
    let mut own = profile;
    own.remove("description");
    own.remove("extends");
    merge_tables(&mut body, &own, EmptyTable::Merge);
    Ok(body)
}

/// Upstream §4.6: `-c default_permissions` forces profiles; otherwise the highest enabled layer
/// setting `default_permissions` (profiles) or `sandbox_mode` (legacy) decides; otherwise the
/// merged config; otherwise implicit.
pub(crate) fn decide_syntax(layers: &[ConfigLayer], merged: &Table) -> PermissionSyntax {
    let sets = |table: &Table, key: &str| table.contains_key(key);
    if layers.iter().any(|layer| {
        layer.enabled()
            && layer.source == LayerSource::SessionFlags
            && sets(&layer.table, "default_permissions")
    }) {
        return PermissionSyntax::Profiles;
    }
    let mut decided = None;
    for layer in layers.iter().filter(|layer| layer.enabled()) {
        if sets(&layer.table, "default_permissions") {
            decided = Some(PermissionSyntax::Profiles);
        } else if sets(&layer.table, "sandbox_mode") {
            decided = Some(PermissionSyntax::Legacy);
        }
    }
    decided.unwrap_or(if sets(merged, "default_permissions") {
        PermissionSyntax::Profiles
    } else if sets(merged, "sandbox_mode") {
        PermissionSyntax::Legacy
    } else {
        PermissionSyntax::Implicit
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn catalog(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn builtins_resolve_and_unknown_builtin_fails() {
        let profile = resolve_profile(":danger-no-sandbox", None).unwrap();
        assert_eq!(profile.builtin, Some(Builtin::DangerFullAccess));
        assert_eq!(profile.name, ":danger-full-access");
        assert_eq!(
            resolve_profile(":nope", None).unwrap_err().to_string(),
            "default_permissions refers to unknown built-in profile `:nope`"
        );
    }

    #[test]
    fn undefined_names_are_named_in_the_error() {
        assert_eq!(
            resolve_profile("dev", None).unwrap_err().to_string(),
            "default_permissions requires a `[permissions]` table: profile `dev` is not defined"
        );
        assert_eq!(
            resolve_profile("dev", Some(&catalog("[other]")))
                .unwrap_err()
                .to_string(),
            "default_permissions refers to undefined profile `dev`"
        );
    }

    #[test]
    fn extends_chain_merges_parent_first() {
        let catalog = catalog(
            "[base]\ndescription = 'b'\nextends = ':read-only'\nfilesystem = { '/data' = 'read' }\n\
             [dev]\nextends = 'base'\nfilesystem = { '/data' = 'write', '/x' = 'deny' }\nnetwork = { enabled = true }",
        );
        let profile = resolve_profile("dev", Some(&catalog)).unwrap();
        let expected: Table = toml::from_str(
            "network = { enabled = true }\n[filesystem]\n':root' = 'read'\n'/data' = 'write'\n'/x' = 'deny'",
        )
        .unwrap();
        assert_eq!(profile.body, expected);
        assert_eq!(profile.builtin, None);
    }

    #[test]
    fn extends_errors() {
        let text = |catalog_text: &str, name: &str| {
            resolve_profile(name, Some(&catalog(catalog_text)))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            text(
                "[a]\nextends = 'b'\n[b]\nextends = 'c'\n[c]\nextends = 'b'",
                "a"
            ),
            "permissions profile inheritance cycle detected: b -> c -> b"
        );
        assert_eq!(
            text("[a]\nextends = 'a'", "a"),
            "permissions profile inheritance cycle detected: a -> a"
        );
        assert_eq!(
            text("[a]\nextends = 'missing'", "a"),
            "permissions profile `a` extends undefined profile `missing`"
        );
        assert_eq!(
            text("[a]\nextends = ':danger-full-access'", "a"),
            "permissions profile `a` cannot extend unsupported built-in profile `:danger-full-access`"
        );
        assert_eq!(
            check_catalog(Some(&catalog("[':mine']")))
                .unwrap_err()
                .to_string(),
            "permissions profile `:mine` uses a reserved built-in profile prefix"
        );
    }

    fn layer(source: LayerSource, text: &str) -> ConfigLayer {
        ConfigLayer::new(source, toml::from_str(text).unwrap())
    }

    #[test]
    fn syntax_decision() {
        let user = |text: &str| {
            layer(
                LayerSource::User {
                    file: PathBuf::from("/h/config.toml"),
                    profile: None,
                },
                text,
            )
        };
        let system = |text: &str| {
            layer(
                LayerSource::System {
                    file: PathBuf::from("/etc/codex/config.toml"),
                },
                text,
            )
        };
        let flags = |text: &str| layer(LayerSource::SessionFlags, text);
        let decide = |layers: &[ConfigLayer]| {
            let mut merged = Table::new();
            for layer in layers.iter().filter(|layer| layer.enabled()) {
                merge_tables(&mut merged, &layer.table, EmptyTable::Merge);
            }
            decide_syntax(layers, &merged)
        };
        assert_eq!(decide(&[user("")]), PermissionSyntax::Implicit);
        assert_eq!(
            decide(&[
                system("default_permissions = 'x'"),
                user("sandbox_mode = 'read-only'")
            ]),
            PermissionSyntax::Legacy
        );
        assert_eq!(
            decide(&[
                system("sandbox_mode = 'read-only'"),
                user("default_permissions = 'x'")
            ]),
            PermissionSyntax::Profiles
        );
        assert_eq!(
            decide(&[user(
                "sandbox_mode = 'read-only'\ndefault_permissions = 'x'"
            )]),
            PermissionSyntax::Profiles,
            "within one layer default_permissions wins"
        );
        assert_eq!(
            decide(&[
                user("default_permissions = 'x'"),
                flags("sandbox_mode = 'read-only'")
            ]),
            PermissionSyntax::Legacy
        );
        assert_eq!(
            decide(&[
                user("sandbox_mode = 'read-only'"),
                flags("default_permissions = 'x'\nsandbox_mode = 'read-only'"),
            ]),
            PermissionSyntax::Profiles
        );
        let mut disabled = user("default_permissions = 'x'");
        disabled.disabled_reason = Some("untrusted".into());
        assert_eq!(decide(&[disabled]), PermissionSyntax::Implicit);
    }
}
