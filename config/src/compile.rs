//! Compile a resolved permission profile (or a legacy `sandbox_mode`) into a [`SandboxPolicy`].

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use codex_sandboxing::{
    Access, Enforcement, NetworkAccess, PathRule, SandboxPolicy, normalize, writable_root,
};
use toml::{Table, Value};

use crate::env_vars;
use crate::paths::{expand_tilde, has_glob, resolve_user_path};
use crate::permissions::{Builtin, PermissionsError, ResolvedProfile};
use crate::types::SandboxMode;

/// `[sandbox_workspace_write]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WorkspaceWriteSettings {
    pub writable_roots: Vec<PathBuf>,
    pub network_access: bool,
    pub exclude_tmpdir_env_var: bool,
    pub exclude_slash_tmp: bool,
}

/// Everything outside the profile that compilation depends on.
#[derive(Debug, Clone)]
pub(crate) struct CompileContext {
    pub cwd: PathBuf,
    pub codex_home: PathBuf,
    /// `$TMPDIR` when set, non-empty and absolute.
    pub tmpdir: Option<PathBuf>,
    /// `/tmp` when it is a directory.
    pub slash_tmp: Option<PathBuf>,
}

impl CompileContext {
    pub fn from_environment(cwd: &Path, codex_home: &Path) -> CompileContext {
        let tmpdir = std::env::var_os(env_vars::TMPDIR)
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .map(|dir| normalize(&dir));
        let slash_tmp = Some(PathBuf::from("/tmp")).filter(|dir| cfg!(unix) && dir.is_dir());
        CompileContext {
            cwd: normalize(cwd),
            codex_home: normalize(codex_home),
            tmpdir,
            slash_tmp,
        }
    }

    fn auth_file(&self) -> PathBuf {
        self.codex_home.join("auth.json")
    }
}

/// One concrete filesystem entry before de-duplication.
#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    access: Access,
    /// Named by a literal path key (not a `:token`).
    literal: bool,
}

/// The body of the implicit `:workspace` default, which honours `[sandbox_workspace_write]`.
pub(crate) fn implicit_workspace_body(settings: &WorkspaceWriteSettings) -> Table {
    let mut body = Builtin::Workspace.body().unwrap_or_default();
    if let Some(Value::Table(filesystem)) = body.get_mut("filesystem") {
        if settings.exclude_slash_tmp {
            filesystem.remove(":slash_tmp");
        }
        if settings.exclude_tmpdir_env_var {
            filesystem.remove(":tmpdir");
        }
    }
    let mut roots = Table::new();
    for root in &settings.writable_roots {
        roots.insert(root.to_string_lossy().into_owned(), Value::Boolean(true));
    }
    body.insert("workspace_roots".into(), Value::Table(roots));
    let mut network = Table::new();
    network.insert("enabled".into(), Value::Boolean(settings.network_access));
    body.insert("network".into(), Value::Table(network));
    body
}

/// Compile a profile. Unknown `:tokens` and profiles without recognised entries add warnings.
pub(crate) fn compile_profile(
    profile: &ResolvedProfile,
    context: &CompileContext,
    warnings: &mut Vec<String>,
) -> Result<SandboxPolicy, PermissionsError> {
    if profile.builtin == Some(Builtin::DangerFullAccess) {
        return Ok(full_access(&profile.name, context));
    }
    let body = &profile.body;
    let mut workspace_roots = vec![context.cwd.clone()];
    if let Some(Value::Table(roots)) = body.get("workspace_roots") {
        for (root, enabled) in roots {
            if enabled.as_bool() == Some(true) {
                workspace_roots.push(resolve_user_path(root, &context.cwd));
            }
        }
    }
    let empty = Table::new();
    let filesystem = body
        .get("filesystem")
        .and_then(Value::as_table)
        .unwrap_or(&empty);
    let mut entries = Vec::new();
    let mut deny_globs = Vec::new();
    let mut platform_defaults = false;
    let mut recognized = 0usize;
    for (key, value) in filesystem {
        if key == "glob_scan_max_depth" {
            continue;
        }
        let items: Vec<(Option<&str>, Access)> = match value {
            Value::String(access) => vec![(None, parse_access(access))],
            Value::Table(nested) => {
                if !accepts_nested(key) {
                    return Err(PermissionsError::NestedNotSupported(key.clone()));
                }
                nested
                    .iter()
                    .map(|(subpath, access)| {
                        (
                            Some(subpath.as_str()),
                            parse_access(access.as_str().unwrap_or("deny")),
                        )
                    })
                    .collect()
            }
            _ => continue,
        };
        let (bases, literal): (Vec<PathBuf>, bool) = match key.as_str() {
            ":root" => (vec![PathBuf::from("/")], false),
            ":minimal" => {
                recognized += 1;
                platform_defaults |= items.iter().any(|(_, access)| access.can_read());
                continue;
            }
            ":workspace_roots" | ":project_roots" => (workspace_roots.clone(), false),
            ":cwd" => (vec![context.cwd.clone()], false),
            ":tmpdir" => (context.tmpdir.iter().cloned().collect(), false),
            ":slash_tmp" => (context.slash_tmp.iter().cloned().collect(), false),
            token if token.starts_with(':') => {
                warnings.push(format!(
                    "Configured filesystem path `{token}` is not recognized by this version of Codex and will be ignored. Upgrade Codex to use it."
                ));
                continue;
            }
            path => match expand_tilde(path) {
                Some(expanded) => (vec![expanded], true),
                None if Path::new(path).is_absolute() => (vec![PathBuf::from(path)], true),
                None => return Err(PermissionsError::RelativePath(path.to_string())),
            },
        };
        recognized += 1;
        for (subpath, access) in items {
            let subpath = subpath.filter(|subpath| *subpath != ".");
            if let Some(subpath) = subpath
                && !is_plain_descendant(subpath)
            {
                return Err(PermissionsError::InvalidSubpath(subpath.to_string()));
            }
            for base in &bases {
                let full = subpath.map_or_else(|| base.clone(), |subpath| base.join(subpath));
                let text = full.to_string_lossy().into_owned();
                if !has_glob(&text) {
                    entries.push(Entry {
                        path: normalize(&full),
                        access,
                        literal: literal && subpath.is_none(),
                    });
                } else if access == Access::Deny {
                    deny_globs.push(normalize(&full).to_string_lossy().into_owned());
                } else if let Some(prefix) = text.strip_suffix("/**").filter(|p| !has_glob(p)) {
                    entries.push(Entry {
                        path: normalize(Path::new(prefix)),
                        access,
                        literal: false,
                    });
                } else {
                    let shown = subpath.map_or_else(|| key.clone(), |sub| format!("{key}/{sub}"));
                    return Err(PermissionsError::GlobAccess(shown));
                }
            }
        }
    }
    if recognized == 0 {
        warnings.push(format!(
            "Permissions profile `{}` does not define any recognized filesystem entries for this version of Codex. Filesystem access will remain restricted. Add entries such as `\":root\" = \"read\"` to grant access.",
            profile.name
        ));
    }
    let network = body.get("network").and_then(Value::as_table);
    let network_enabled = network
        .and_then(|network| network.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut unix_sockets = Vec::new();
    if let Some(Value::Table(sockets)) = network.and_then(|network| network.get("unix_sockets")) {
        for (path, decision) in sockets {
            if decision.as_str() != Some("allow") {
                continue;
            }
            let resolved = match expand_tilde(path) {
                Some(expanded) => expanded,
                None if Path::new(path).is_absolute() => PathBuf::from(path),
                None => return Err(PermissionsError::RelativeSocketPath(path.clone())),
            };
            unix_sockets.push(normalize(&resolved));
        }
    }
    unix_sockets.sort();
    unix_sockets.dedup();
    let glob_scan_max_depth = filesystem
        .get("glob_scan_max_depth")
        .and_then(Value::as_integer)
        .and_then(|depth| u32::try_from(depth).ok());
    let auth_exempt = entries.iter().any(|entry| {
        entry.literal
            && entry.access.can_read()
            && (entry.path == context.auth_file() || entry.path == context.codex_home)
    });
    let mut policy = SandboxPolicy {
        profile: profile.name.clone(),
        enforcement: Enforcement::Managed,
        cwd: context.cwd.clone(),
        rules: entries
            .into_iter()
            .map(|entry| PathRule {
                path: entry.path,
                access: entry.access,
            })
            .collect(),
        platform_defaults,
        deny_globs,
        glob_scan_max_depth,
        writable_roots: Vec::new(),
        network: if network_enabled {
            NetworkAccess::Enabled
        } else {
            NetworkAccess::Restricted
        },
        unix_sockets,
    };
    if !auth_exempt {
        deny_auth_file(&mut policy, context);
    }
    finish(&mut policy);
    Ok(policy)
}

/// The legacy `sandbox_mode` policies.
pub(crate) fn compile_legacy(
    mode: SandboxMode,
    settings: &WorkspaceWriteSettings,
    context: &CompileContext,
) -> SandboxPolicy {
    let mut rules = vec![rule("/", Access::Read)];
    let mut network = NetworkAccess::Restricted;
    match mode {
        SandboxMode::DangerFullAccess => return full_access(mode.as_str(), context),
        SandboxMode::ReadOnly => {}
        SandboxMode::WorkspaceWrite => {
            rules.push(rule(&context.cwd, Access::Write));
            for root in &settings.writable_roots {
                rules.push(rule(root, Access::Write));
            }
            if !settings.exclude_slash_tmp
                && let Some(dir) = &context.slash_tmp
            {
                rules.push(rule(dir, Access::Write));
            }
            if !settings.exclude_tmpdir_env_var
                && let Some(dir) = &context.tmpdir
            {
                rules.push(rule(dir, Access::Write));
            }
            if settings.network_access {
                network = NetworkAccess::Enabled;
            }
        }
    }
    let mut policy = managed(mode.as_str(), context, rules, network);
    deny_auth_file(&mut policy, context);
    finish(&mut policy);
    policy
}

/// `:danger-full-access` / legacy `danger-full-access`: no sandbox, but `auth.json` stays masked.
pub(crate) fn full_access(name: &str, context: &CompileContext) -> SandboxPolicy {
    let mut policy = managed(
        name,
        context,
        vec![rule("/", Access::Write)],
        NetworkAccess::Enabled,
    );
    policy.enforcement = Enforcement::FullAccess;
    deny_auth_file(&mut policy, context);
    finish(&mut policy);
    policy
}

/// Add requirement `deny_read` entries (absolute paths or globs).
pub(crate) fn add_deny_read(policy: &mut SandboxPolicy, patterns: &[String]) {
    for pattern in patterns {
        if has_glob(pattern) {
            policy
                .deny_globs
                .push(normalize(Path::new(pattern)).to_string_lossy().into_owned());
        } else {
            policy.rules.push(rule(Path::new(pattern), Access::Deny));
        }
    }
    finish(policy);
}

fn managed(
    name: &str,
    context: &CompileContext,
    rules: Vec<PathRule>,
    network: NetworkAccess,
) -> SandboxPolicy {
    SandboxPolicy {
        profile: name.to_string(),
        enforcement: Enforcement::Managed,
        cwd: context.cwd.clone(),
        rules,
        platform_defaults: false,
        deny_globs: Vec::new(),
        glob_scan_max_depth: None,
        writable_roots: Vec::new(),
        network,
        unix_sockets: Vec::new(),
    }
}

fn deny_auth_file(policy: &mut SandboxPolicy, context: &CompileContext) {
    policy.rules.push(rule(context.auth_file(), Access::Deny));
}

/// One rule per path (deny > write > read), sorted; globs sorted and unique; writable roots
/// recomputed from the write rules.
fn finish(policy: &mut SandboxPolicy) {
    let mut by_path: BTreeMap<PathBuf, Access> = BTreeMap::new();
    for rule in policy.rules.drain(..) {
        let path = normalize(&rule.path);
        let access = by_path
            .get(&path)
            .map_or(rule.access, |existing| existing.strongest(rule.access));
        by_path.insert(path, access);
    }
    policy.rules = by_path
        .into_iter()
        .map(|(path, access)| PathRule { path, access })
        .collect();
    policy.deny_globs.sort();
    policy.deny_globs.dedup();
    policy.writable_roots = policy
        .rules
        .iter()
        .filter(|rule| rule.access == Access::Write)
        .map(|rule| writable_root(&rule.path, &policy.cwd))
        .collect();
}

fn rule(path: impl AsRef<Path>, access: Access) -> PathRule {
    PathRule {
        path: normalize(path.as_ref()),
        access,
    }
}

fn parse_access(text: &str) -> Access {
    match text {
        "read" => Access::Read,
        "write" => Access::Write,
        _ => Access::Deny,
    }
}

fn accepts_nested(key: &str) -> bool {
    matches!(key, ":workspace_roots" | ":project_roots")
        || Path::new(key).is_absolute()
        || key == "~"
        || key.starts_with("~/")
}

fn is_plain_descendant(subpath: &str) -> bool {
    let path = Path::new(subpath);
    !subpath.is_empty()
        && path
            .components()
            .all(|component| matches!(component, Component::Normal(_)))
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
