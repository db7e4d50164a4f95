//! Permission profiles: which syntax decides, built-ins, and `extends` chains.

use std::collections::HashMap;

use toml::{Table, Value};

use crate::layers::{ConfigLayer, LayerSource};
use crate::merge::{EmptyTable, merge_tables};
use crate::suggestions::ProfileSuggestions;
use crate::types::PermissionSyntax;

/// A permission profile could not be resolved or compiled. Texts follow upstream where it has
/// one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionsError {
    #[error("default_permissions refers to undefined profile `{name}`{suggestions}")]
    UndefinedProfile {
        name: String,
        suggestions: ProfileSuggestions,
    },
    #[error(
        "default_permissions requires a `[permissions]` table: profile `{name}` is not defined{suggestions}"
    )]
    MissingPermissionsTable {
        name: String,
        suggestions: ProfileSuggestions,
    },
    #[error("default_permissions refers to unknown built-in profile `{name}`{suggestions}")]
    UnknownBuiltin {
        name: String,
        suggestions: ProfileSuggestions,
    },
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
    #[error(
        "cannot build a deny glob below `{0}`: the path is not valid UTF-8; rename the directory or deny an exact path instead of a glob"
    )]
    NonUtf8GlobBase(String),
    #[error("{0}")]
    InvalidDenyGlob(#[from] codex_sandbox_policy::GlobError),
    #[error(
        "permissions profile `{profile}` has an `extends` chain longer than {limit} profiles; shorten the chain"
    )]
    ExtendsTooDeep { profile: String, limit: usize },
    #[error("unix socket path `{0}` must be absolute or use `~/...`")]
    RelativeSocketPath(String),
    #[error(
        "refusing to make the working directory `{0}` writable: it is the filesystem root or contains a home directory, so a sandboxed command could plant code in files such as `~/.bashrc` that the next shell runs\n\nhint: run codex from a project directory (`--cd <dir>`), or name the directory as a writable root (`--add-dir`, `writable_roots`, or a `[permissions]` profile entry) if you really mean it"
    )]
    BroadWorkingDirectory(String),
    #[error(
        "`CODEX_HOME` is reached through the symlink `{link}`, which a sandboxed command may write: it could repoint it, and a later run would keep credentials and read configuration elsewhere\n\nhint: set `CODEX_HOME` to the directory itself (`{target}`), or move the symlink out of the writable roots"
    )]
    CodexHomeThroughWritableSymlink { link: String, target: String },
    #[error(
        "the credentials file `{0}` is a symlink to a file outside `CODEX_HOME`: the sandbox hides `CODEX_HOME`, not where the link points\n\nhint: replace the symlink with the file itself (or remove it and sign in again with `codex login`)"
    )]
    CredentialsFileIsSymlink(String),
    #[error(
        "`{0}` has another hard link: hiding `CODEX_HOME` hides its names, not the file, so a sandboxed command could read or rewrite it through the other name\n\nhint: replace it with a copy of its own (`cp --remove-destination`), or remove the other link"
    )]
    CodexHomeFileHardLinked(String),
    #[error(
        "`{0}` is a symlink inside a writable root: a sandboxed command could point it at a git directory whose configuration the next `git` run would execute\n\nhint: replace the symlink with a `gitdir: <path>` file (`git init --separate-git-dir`) or move the directory it points to into place"
    )]
    GitDirSymlink(String),
}

impl PermissionsError {
    /// One of the refusals that keep a sandboxed command from planting what the host runs next
    /// (they concern the policy only, so commands that never run anything defer them).
    pub fn is_confinement_refusal(&self) -> bool {
        matches!(
            self,
            PermissionsError::BroadWorkingDirectory(_)
                | PermissionsError::CodexHomeThroughWritableSymlink { .. }
                | PermissionsError::CredentialsFileIsSymlink(_)
                | PermissionsError::CodexHomeFileHardLinked(_)
                | PermissionsError::GitDirSymlink(_)
        )
    }
}

/// Longest `extends` chain (the selected profile included) that is resolved.
pub(crate) const MAX_EXTENDS_DEPTH: usize = 64;

/// The names of the built-in profiles, in the order they are listed to users.
pub(crate) const BUILTIN_PROFILE_NAMES: &[&str] =
    &[":read-only", ":workspace", ":danger-full-access"];

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
        let builtin = Builtin::parse(name).ok_or_else(|| PermissionsError::UnknownBuiltin {
            name: name.to_string(),
            suggestions: ProfileSuggestions::new(name, catalog),
        })?;
        return Ok(ResolvedProfile {
            name: builtin.name().to_string(),
            builtin: Some(builtin),
            body: builtin.body().unwrap_or_default(),
        });
    }
    let Some(catalog) = catalog else {
        return Err(PermissionsError::MissingPermissionsTable {
            name: name.to_string(),
            suggestions: ProfileSuggestions::new(name, None),
        });
    };
    if !catalog.contains_key(name) {
        return Err(PermissionsError::UndefinedProfile {
            name: name.to_string(),
            suggestions: ProfileSuggestions::new(name, Some(catalog)),
        });
    }
    let body = resolve_chain(name, catalog)?;
    Ok(ResolvedProfile {
        name: name.to_string(),
        builtin: None,
        body,
    })
}

/// Follow `extends` from `name` up to a built-in or a profile without `extends` (iteratively,
/// with a visited set and a depth limit), then merge the bodies from the oldest ancestor down.
fn resolve_chain(name: &str, catalog: &Table) -> Result<Table, PermissionsError> {
    let mut chain: Vec<(&str, Table)> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut current = name;
    let mut body = loop {
        if let Some(&start) = position.get(current) {
            let mut names: Vec<&str> = chain[start..].iter().map(|(name, _)| *name).collect();
            names.push(current);
            return Err(PermissionsError::Cycle(names.join(" -> ")));
        }
        if chain.len() >= MAX_EXTENDS_DEPTH {
            return Err(PermissionsError::ExtendsTooDeep {
                profile: name.to_string(),
                limit: MAX_EXTENDS_DEPTH,
            });
        }
        let profile = catalog
            .get(current)
            .and_then(Value::as_table)
            .cloned()
            .unwrap_or_default();
        let parent = profile.get("extends").and_then(Value::as_str);
        position.insert(current, chain.len());
        let next = match parent {
            None => None,
            Some(parent) if parent.starts_with(':') => {
                let base = Builtin::parse(parent)
                    .and_then(Builtin::body)
                    .ok_or_else(|| PermissionsError::CannotExtendBuiltin {
                        profile: current.to_string(),
                        parent: parent.to_string(),
                    })?;
                chain.push((current, profile));
                break base;
            }
            Some(parent) => match catalog.get_key_value(parent) {
                Some((key, _)) => Some(key.as_str()),
                None => {
                    return Err(PermissionsError::ExtendsUndefined {
                        profile: current.to_string(),
                        parent: parent.to_string(),
                    });
                }
            },
        };
        chain.push((current, profile));
        match next {
            Some(parent) => current = parent,
            None => break Table::new(),
        }
    };
    for (_, mut own) in chain.into_iter().rev() {
        own.remove("description");
        own.remove("extends");
        merge_tables(&mut body, &own, EmptyTable::Merge);
    }
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
            "default_permissions refers to unknown built-in profile `:nope` (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`)"
        );
        assert_eq!(
            resolve_profile(":worksapce", Some(&catalog("[dev]")))
                .unwrap_err()
                .to_string(),
            "default_permissions refers to unknown built-in profile `:worksapce`; did you mean `:workspace`? (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`, `dev`)"
        );
    }

    #[test]
    fn undefined_names_are_named_in_the_error() {
        assert_eq!(
            resolve_profile("dev", None).unwrap_err().to_string(),
            "default_permissions requires a `[permissions]` table: profile `dev` is not defined (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`)"
        );
        let error = resolve_profile("workspace", None).unwrap_err();
        assert_eq!(
            error,
            PermissionsError::MissingPermissionsTable {
                name: "workspace".into(),
                suggestions: ProfileSuggestions {
                    nearest: vec![":workspace".into()],
                    defined: vec![
                        ":read-only".into(),
                        ":workspace".into(),
                        ":danger-full-access".into()
                    ],
                },
            }
        );
        assert_eq!(
            resolve_profile("dev", Some(&catalog("[other]")))
                .unwrap_err()
                .to_string(),
            "default_permissions refers to undefined profile `dev` (defined profiles: `:read-only`, `:workspace`, `:danger-full-access`, `other`)"
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

    /// Regression: a long `extends` chain overflowed the stack (recursion)
    /// and took quadratic time; now it is iterative with a depth limit.
    #[test]
    fn long_extends_chain_is_refused_without_recursion() {
        let chain = |length: usize| {
            let mut text = String::new();
            for index in 0..length {
                if index + 1 < length {
                    text.push_str(&format!("[p{index}]\nextends = 'p{}'\n", index + 1));
                } else {
                    text.push_str(&format!("[p{index}.filesystem]\n':root' = 'read'\n"));
                }
            }
            catalog(&text)
        };
        let catalog_at_limit = chain(MAX_EXTENDS_DEPTH);
        let profile = resolve_profile("p0", Some(&catalog_at_limit)).unwrap();
        assert_eq!(profile.body, catalog("[filesystem]\n':root' = 'read'"));
        let long = chain(10_000);
        // A small stack: the old recursive resolver overflowed it.
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || resolve_profile("p0", Some(&long)).unwrap_err().to_string())
            .unwrap();
        assert_eq!(
            handle.join().unwrap(),
            "permissions profile `p0` has an `extends` chain longer than 64 profiles; shorten the chain"
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
