//! Compile a resolved permission profile (or a legacy `sandbox_mode`) into a [`SandboxPolicy`].

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use codex_sandbox_policy::{
    Access, DenyGlob, Enforcement, NetworkAccess, PathRule, ProtectedKind, ProtectedPath,
    SandboxPolicy, inside_root, normalize, writable_root,
};
use toml::{Table, Value};

use crate::env_vars;
use crate::home::{account_home_dir, home_dir};
use crate::paths::{deny_glob_pattern, expand_tilde, glob_literal, resolve_user_path};
use crate::permissions::{Builtin, PermissionsError, ResolvedProfile};
use crate::types::SandboxMode;

#[path = "compile_confine.rs"]
mod confine;
use confine::{
    check_codex_home_links, is_root_or_home_ancestor, protect_git_pointers_across_roots,
};

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
    /// `$TMPDIR` when set, non-empty, absolute and acceptable as a writable root.
    pub tmpdir: Option<PathBuf>,
    /// `$TMPDIR` when it was refused (the filesystem root, or a home directory or one of its
    /// ancestors): `:tmpdir` then grants nothing and a warning names it.
    pub refused_tmpdir: Option<PathBuf>,
    /// `/tmp` when it is a directory.
    pub slash_tmp: Option<PathBuf>,
    /// The home directories (`$HOME` and the account's): the implicit workspace root (the cwd)
    /// may not be one of them or an ancestor of one.
    pub homes: Vec<PathBuf>,
    /// `$CODEX_HOME` as spelled (the variable, or `~/.codex`), when that is the home being
    /// loaded: a symbolic link on the way that a sandboxed command may write could be repointed,
    /// and the next run would keep its credentials and read its configuration elsewhere.
    pub codex_home_spelled: Option<PathBuf>,
    /// The confinement refusals (a broad implicit working directory, `CODEX_HOME` or
    /// `auth.json` through a link, a `.git` symlink) apply; off only to compile a policy that is
    /// never used to run anything ([`crate::LoaderOptions::defer_sandbox_refusals`]).
    pub confinement_checks: bool,
    /// Where the symbolic links directly inside `$CODEX_HOME` lead, when that is outside it
    /// (dotfiles layouts: `config.toml -> ~/dotfiles/codex/config.toml`). Hiding `$CODEX_HOME`
    /// does not cover them, so inside a writable root they are kept read-only: the command must
    /// not rewrite the configuration the next run loads.
    pub codex_home_link_targets: Vec<PathBuf>,
}

impl CompileContext {
    pub fn from_environment(cwd: &Path, codex_home: &Path) -> CompileContext {
        let tmpdir = std::env::var_os(env_vars::TMPDIR)
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .map(|dir| normalize(&dir));
        let homes: Vec<PathBuf> = home_dir().into_iter().chain(account_home_dir()).collect();
        let (tmpdir, refused_tmpdir) = match tmpdir {
            Some(dir) if is_root_or_home_ancestor(&dir, &homes) => (None, Some(dir)),
            other => (other, None),
        };
        let slash_tmp = Some(PathBuf::from("/tmp")).filter(|dir| cfg!(unix) && dir.is_dir());
        let spelled = std::env::var_os(env_vars::CODEX_HOME)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .or_else(|| home_dir().map(|home| home.join(".codex")));
        // Only when the spelling is the home being loaded (a library caller may pass another).
        let codex_home_spelled = spelled.filter(|spelled| {
            normalize(spelled) == normalize(codex_home)
                || spelled.canonicalize().ok() == codex_home.canonicalize().ok()
        });
        CompileContext {
            cwd: normalize(cwd),
            codex_home: normalize(codex_home),
            tmpdir,
            refused_tmpdir,
            slash_tmp,
            homes,
            codex_home_spelled,
            confinement_checks: true,
            codex_home_link_targets: link_targets_outside(codex_home),
        }
    }

    /// Refuse to make the working directory writable *implicitly* (as the workspace root, or
    /// through `:cwd`) when it is `/` or a home directory or one of its ancestors: the whole
    /// home (`~/.bashrc`, `~/.ssh`, `~/.config`) would be writable, so the next host shell would
    /// run what a sandboxed command planted. Naming it as a writable root stays possible.
    fn check_implicit_cwd_write(&self) -> Result<(), PermissionsError> {
        if self.confinement_checks && is_root_or_home_ancestor(&self.cwd, &self.homes) {
            return Err(PermissionsError::BroadWorkingDirectory(
                self.cwd.display().to_string(),
            ));
        }
        Ok(())
    }

    fn auth_file(&self) -> PathBuf {
        self.codex_home.join("auth.json")
    }

    /// Warn (once per compilation) that `$TMPDIR` was not granted.
    fn warn_refused_tmpdir(&self, warnings: &mut Vec<String>) {
        if let Some(dir) = &self.refused_tmpdir {
            let warning = format!(
                "`$TMPDIR` is `{}`, which is the filesystem root or contains a home directory; it is not made writable. Point `TMPDIR` at a dedicated temporary directory",
                dir.display()
            );
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
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

/// Where a filesystem key points: a path that is taken literally (a token's directory, the home
/// directory of `~/…`, `/` for absolute keys) and the part the user wrote, which may hold glob
/// syntax.
#[derive(Debug, Clone)]
struct Base {
    path: PathBuf,
    /// User-written text below `path` (absolute for absolute keys; empty for tokens).
    written: String,
    /// Named by a literal path key (not a `:token`).
    literal: bool,
    /// The working directory as the implicit workspace root or `:cwd` (not a root the user
    /// named).
    implicit_cwd: bool,
}

impl Base {
    fn token(path: PathBuf) -> Base {
        Base {
            path,
            written: String::new(),
            literal: false,
            implicit_cwd: false,
        }
    }

    fn implicit_cwd(path: PathBuf) -> Base {
        Base {
            implicit_cwd: true,
            ..Base::token(path)
        }
    }

    /// An absolute or `~/…` key.
    fn literal(key: &str) -> Result<Base, PermissionsError> {
        let (path, written) = if key == "~" || key.starts_with("~/") {
            match home_dir() {
                Some(home) => (home, key.trim_start_matches('~').trim_start_matches('/')),
                None => return Err(PermissionsError::RelativePath(key.to_string())),
            }
        } else if Path::new(key).is_absolute() {
            (PathBuf::from("/"), key)
        } else {
            return Err(PermissionsError::RelativePath(key.to_string()));
        };
        Ok(Base {
            path,
            written: written.to_string(),
            literal: true,
            implicit_cwd: false,
        })
    }
}

/// The literal `prefix` of a user-written `prefix/**` (or `**` alone: the empty prefix) when
/// `prefix` has no glob syntax of its own (escapes such as `\[` removed).
fn subtree_prefix(written: &str) -> Option<String> {
    let prefix = if written == "**" {
        ""
    } else {
        written.strip_suffix("/**")?
    };
    glob_literal(prefix)
}

/// `literal` (user-written, glob escapes removed) below `base`, normalised; the empty text is
/// `base` itself (so `"/**"` is `/`, never the empty path).
fn below(base: &Path, literal: &str) -> PathBuf {
    if literal.is_empty() {
        normalize(base)
    } else {
        normalize(&base.join(literal))
    }
}

fn is_known_token(key: &str) -> bool {
    matches!(
        key,
        ":root"
            | ":minimal"
            | ":workspace_roots"
            | ":project_roots"
            | ":cwd"
            | ":tmpdir"
            | ":slash_tmp"
    )
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
        let policy = full_access(&profile.name, context);
        check_codex_home_links(&policy, context)?;
        return Ok(policy);
    }
    let body = &profile.body;
    let mut workspace_roots = vec![Base::implicit_cwd(context.cwd.clone())];
    if let Some(Value::Table(roots)) = body.get("workspace_roots") {
        for (root, enabled) in roots {
            if enabled.as_bool() == Some(true) {
                workspace_roots.push(Base::token(normalize(&resolve_user_path(
                    root,
                    &context.cwd,
                ))));
            }
        }
    }
    // Write access to the cwd itself granted only implicitly, and named explicitly.
    let mut implicit_cwd_write = false;
    let mut explicit_cwd_write = false;
    let mut note_cwd_write = |path: &Path, access: Access, base: &Base| {
        if access == Access::Write && path == context.cwd {
            if base.implicit_cwd {
                implicit_cwd_write = true;
            } else {
                explicit_cwd_write = true;
            }
        }
    };
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
        // Unknown tokens are forward-compatible whatever their value: check them first.
        if key.starts_with(':') && !is_known_token(key) {
            warnings.push(format!(
                "Configured filesystem path `{key}` is not recognized by this version of Codex and will be ignored. Upgrade Codex to use it."
            ));
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
        let bases: Vec<Base> = match key.as_str() {
            ":root" => vec![Base::token(PathBuf::from("/"))],
            ":minimal" => {
                recognized += 1;
                platform_defaults |= items.iter().any(|(_, access)| access.can_read());
                continue;
            }
            ":workspace_roots" | ":project_roots" => workspace_roots.clone(),
            ":cwd" => vec![Base::implicit_cwd(context.cwd.clone())],
            ":tmpdir" => {
                context.warn_refused_tmpdir(warnings);
                context.tmpdir.iter().cloned().map(Base::token).collect()
            }
            ":slash_tmp" => context.slash_tmp.iter().cloned().map(Base::token).collect(),
            path => vec![Base::literal(path)?],
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
                // Only what the user wrote may be a glob: the base of a token (the cwd, a
                // workspace root, the home directory) is a literal path, whatever it contains.
                let written = match (base.written.as_str(), subpath) {
                    (written, None) => written.to_string(),
                    ("", Some(subpath)) => subpath.to_string(),
                    (written, Some(subpath)) => format!("{written}/{subpath}"),
                };
                if let Some(literal) = glob_literal(&written) {
                    let path = below(&base.path, &literal);
                    note_cwd_write(&path, access, base);
                    entries.push(Entry {
                        path,
                        access,
                        literal: base.literal && subpath.is_none(),
                    });
                } else if access == Access::Deny {
                    let pattern = deny_glob_pattern(&base.path, &written).ok_or_else(|| {
                        PermissionsError::NonUtf8GlobBase(base.path.display().to_string())
                    })?;
                    deny_globs.push(DenyGlob::parse(&pattern)?);
                } else if let Some(subtree) = subtree_prefix(&written) {
                    // `<path>/**` for read/write is the subtree at `<path>`; `/**` is `/`.
                    let path = below(&base.path, &subtree);
                    note_cwd_write(&path, access, base);
                    entries.push(Entry {
                        path,
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
    if implicit_cwd_write && !explicit_cwd_write {
        context.check_implicit_cwd_write()?;
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
    let granted = |path: &Path| {
        entries
            .iter()
            .any(|entry| entry.literal && entry.access.can_read() && entry.path == path)
    };
    let exempt = CodexHomeExemption {
        codex_home: granted(&context.codex_home),
        credentials: granted(&context.auth_file()),
    };
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
    deny_codex_home(&mut policy, context, exempt);
    finish(&mut policy, context);
    check_codex_home_links(&policy, context)?;
    Ok(policy)
}

/// The legacy `sandbox_mode` policies.
pub(crate) fn compile_legacy(
    mode: SandboxMode,
    settings: &WorkspaceWriteSettings,
    context: &CompileContext,
    warnings: &mut Vec<String>,
) -> Result<SandboxPolicy, PermissionsError> {
    let mut rules = vec![rule("/", Access::Read)];
    let mut network = NetworkAccess::Restricted;
    match mode {
        SandboxMode::DangerFullAccess => {
            let policy = full_access(mode.as_str(), context);
            check_codex_home_links(&policy, context)?;
            return Ok(policy);
        }
        SandboxMode::ReadOnly => {}
        SandboxMode::WorkspaceWrite => {
            let named = settings
                .writable_roots
                .iter()
                .any(|root| normalize(root) == context.cwd);
            if !named {
                context.check_implicit_cwd_write()?;
            }
            rules.push(rule(&context.cwd, Access::Write));
            for root in &settings.writable_roots {
                rules.push(rule(root, Access::Write));
            }
            if !settings.exclude_slash_tmp
                && let Some(dir) = &context.slash_tmp
            {
                rules.push(rule(dir, Access::Write));
            }
            if !settings.exclude_tmpdir_env_var {
                context.warn_refused_tmpdir(warnings);
                if let Some(dir) = &context.tmpdir {
                    rules.push(rule(dir, Access::Write));
                }
            }
            if settings.network_access {
                network = NetworkAccess::Enabled;
            }
        }
    }
    let mut policy = managed(mode.as_str(), context, rules, network);
    deny_codex_home(&mut policy, context, CodexHomeExemption::default());
    finish(&mut policy, context);
    check_codex_home_links(&policy, context)?;
    Ok(policy)
}

/// `:danger-full-access` / legacy `danger-full-access`: no sandbox, but `$CODEX_HOME` stays hidden.
pub(crate) fn full_access(name: &str, context: &CompileContext) -> SandboxPolicy {
    let mut policy = managed(
        name,
        context,
        vec![rule("/", Access::Write)],
        NetworkAccess::Enabled,
    );
    policy.enforcement = Enforcement::FullAccess;
    deny_codex_home(&mut policy, context, CodexHomeExemption::default());
    finish(&mut policy, context);
    policy
}

/// Apply requirement `deny_read` entries: absolute glob-syntax patterns (see
/// `requirements::resolve_deny_read`). A pattern without glob syntax is a path denied with
/// [`SandboxPolicy::force_deny`]: final, whatever more specific rules the profile has; the rest
/// become deny globs.
pub(crate) fn add_deny_read(
    policy: &mut SandboxPolicy,
    patterns: &[String],
    context: &CompileContext,
) -> Result<(), codex_sandbox_policy::GlobError> {
    let mut paths = Vec::new();
    for pattern in patterns {
        match glob_literal(pattern) {
            Some(literal) => paths.push(normalize(Path::new(&literal))),
            None => policy.deny_globs.push(DenyGlob::parse(pattern)?),
        }
    }
    policy.force_deny(&paths);
    finish(policy, context);
    Ok(())
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

/// What a profile explicitly granted inside `$CODEX_HOME` (a literal path key, not a token).
#[derive(Debug, Clone, Copy, Default)]
struct CodexHomeExemption {
    /// `$CODEX_HOME` itself: readable apart from the credentials.
    codex_home: bool,
    /// `$CODEX_HOME/auth.json`.
    credentials: bool,
}

/// Hide all of `$CODEX_HOME` (credentials, their lock and temporary files, sessions, logs,
/// configuration), present or not: a directory mask cannot be detached by an atomic rename
/// inside it (a mask on `auth.json` itself was, at every login and refresh). A profile reopens
/// a subpath by naming it (it is more specific than the denial), the whole directory by naming
/// `$CODEX_HOME` itself; the credentials file only by naming it.
fn deny_codex_home(
    policy: &mut SandboxPolicy,
    context: &CompileContext,
    exempt: CodexHomeExemption,
) {
    if !exempt.codex_home {
        policy.rules.push(rule(&context.codex_home, Access::Deny));
    }
    if !exempt.credentials {
        policy.rules.push(rule(context.auth_file(), Access::Deny));
    }
}

/// One rule per path (deny > write > read), sorted; globs sorted and unique; writable roots
/// recomputed from the write rules, each with its protected metadata and, when `$CODEX_HOME`
/// lies inside it, `$CODEX_HOME` as a read-only carve-out.
fn finish(policy: &mut SandboxPolicy, context: &CompileContext) {
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
    policy.deny_globs.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    policy.deny_globs.dedup_by(|a, b| a.as_str() == b.as_str());
    policy.writable_roots = policy
        .rules
        .iter()
        .filter(|rule| rule.access == Access::Write)
        .map(|rule| {
            let mut root = writable_root(&rule.path, &policy.cwd);
            // Never the root itself: a link to it would make all of it read-only.
            let targets = context
                .codex_home_link_targets
                .iter()
                .filter_map(|path| inside_root(&root.root, path));
            let codex_home = if context.codex_home == root.root {
                Some(root.root.clone())
            } else {
                inside_root(&root.root, &context.codex_home)
            };
            let inside: Vec<PathBuf> = codex_home.into_iter().chain(targets).collect();
            if !inside.is_empty() {
                root.protected
                    .extend(inside.into_iter().map(|path| ProtectedPath {
                        path,
                        kind: ProtectedKind::CodexHome,
                    }));
                root.protected.sort_by(|a, b| a.path.cmp(&b.path));
                root.protected.dedup_by(|a, b| a.path == b.path);
            }
            root
        })
        .collect();
    protect_git_pointers_across_roots(&mut policy.writable_roots);
}

/// Most entries of `$CODEX_HOME` looked at for links (it holds a handful of files and the
/// sessions directory; a huge one is not scanned further).
const MAX_CODEX_HOME_ENTRIES: usize = 4096;

/// The targets of the symbolic links directly inside `codex_home` that lead outside it (sorted):
/// canonical, or for a dangling link its target as written (a sandboxed command could create
/// it, and the next run would load it).
fn link_targets_outside(codex_home: &Path) -> Vec<PathBuf> {
    let Ok(home) = codex_home.canonicalize() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&home) else {
        return Vec::new();
    };
    let mut targets: Vec<PathBuf> = entries
        .take(MAX_CODEX_HOME_ENTRIES)
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_symlink()))
        .filter_map(|entry| {
            let path = entry.path();
            // A dangling link's target may be created by a sandboxed command, then loaded.
            path.canonicalize().ok().or_else(|| {
                let target = std::fs::read_link(&path).ok()?;
                Some(normalize(&home.join(target)))
            })
        })
        .filter(|target| !target.starts_with(&home))
        .collect();
    targets.sort();
    targets.dedup();
    targets
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
