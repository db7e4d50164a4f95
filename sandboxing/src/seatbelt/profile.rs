//! Rendering the Seatbelt profile text and its `-D` parameters.
//!
//! Section order matters because the last matching rule wins: the base allowances come first,
//! then the policy's allowances, and every deny (denied paths, deny globs, nested project
//! metadata, rename guards, the Docker and terminal hardening) comes last so that nothing above
//! can reopen it. Administrator denials (`SandboxPolicy::force_deny`) are ordinary deny rules
//! with nothing more specific below them, so they are among those trailing denies and nothing
//! after them allows anything.
//!
//! Paths never appear in the text itself: each is passed as a parameter
//! (`(param "WRITABLE_ROOT_0")`), so no path needs SBPL quoting. Where a rule needs a regex, the
//! path is escaped with `glob::escape_literal`; comments never carry control characters.
//! Parameters are numbered in this order: readable roots, writable roots,
//! `DARWIN_USER_CACHE_DIR`, unix sockets, denied paths, guarded paths.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Enforcement, SandboxPolicy};

use super::canonical::{Canonicalize, resolve};
use super::rules::{self, AccessPlan, AllowedRoot, DeniedPath, ReadAccess, WritableArea};
use super::{SeatbeltOptions, SeatbeltPlanError, glob, nested_metadata, rename_guards, symlinks};

const BASE: &str = include_str!("base.sbpl");
const PLATFORM_DEFAULTS: &str = include_str!("platform_defaults.sbpl");
const NETWORK: &str = include_str!("network.sbpl");
const HARDENING: &str = include_str!("hardening.sbpl");
const TERMINAL: &str = include_str!("terminal.sbpl");

/// The profile text and the `-D` parameters it refers to, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    pub text: String,
    pub parameters: Vec<(String, PathBuf)>,
}

/// Render the profile for `policy`.
pub(crate) fn render(
    policy: &SandboxPolicy,
    options: &SeatbeltOptions,
    canonicalizer: &dyn Canonicalize,
) -> Result<Profile, SeatbeltPlanError> {
    rules::validate(policy)?;
    let cache_dir = canonical_cache_dir(options, canonicalizer)?;
    let glob_prefixes = glob_prefix_spellings(policy, canonicalizer);
    let mut out = Output::default();
    match policy.enforcement {
        Enforcement::Managed => {
            let plan = rules::access_plan(policy, canonicalizer);
            // The cache directory is only writable together with the network.
            let writable_cache: Vec<PathBuf> = if policy.network_restricted() {
                Vec::new()
            } else {
                cache_dir.iter().cloned().collect()
            };
            let area = WritableArea::Roots {
                roots: &plan.write_roots,
                extra: writable_cache,
                denied: &plan.denied,
            };
            symlinks::check(policy, &area, canonicalizer)?;
            if let (false, Some(path)) = (
                policy.network_restricted(),
                options.darwin_user_cache_dir.as_deref(),
            ) {
                symlinks::check_cache_dir(&codex_sandbox_policy::normalize(path), canonicalizer)?;
            }
            let metadata = nested_metadata::regexes(policy, &area.subtrees(), canonicalizer)?;
            // Carve-outs: everything excluded from a write root, every denied path, and the
            // static directory of every deny glob (whose own entry is guarded too, below).
            let guarded = rename_guards::guarded_paths(
                &area,
                plan.write_roots
                    .iter()
                    .flat_map(|root| root.excluded.iter().cloned())
                    .chain(plan.denied.iter().map(|denied| denied.path.clone()))
                    .chain(glob_prefixes.iter().cloned()),
                policy
                    .writable_roots
                    .iter()
                    .flat_map(|root| {
                        super::canonical::carve_out_spellings(canonicalizer, &root.root)
                    })
                    .chain(area.subtrees().into_iter().map(Path::to_path_buf))
                    .chain(glob_prefixes.iter().cloned()),
            );

            out.text.push_str(BASE);
            render_reads(&mut out, &plan);
            render_writes(&mut out, &plan);
            if policy.platform_defaults && !policy.has_full_read() {
                out.section(PLATFORM_DEFAULTS);
            }
            let cache_name =
                cache_dir.map(|path| out.parameter("DARWIN_USER_CACHE_DIR".to_string(), path));
            if !policy.network_restricted() {
                render_network(&mut out, cache_name.as_deref());
            }
            render_unix_sockets(&mut out, policy, options, canonicalizer)?;
            render_denied(&mut out, &plan.denied);
            render_deny_globs(&mut out, policy, canonicalizer)?;
            render_nested_metadata(&mut out, &metadata);
            render_rename_guards(&mut out, guarded);
            out.section(HARDENING);
        }
        Enforcement::FullAccess => {
            out.text.push_str(
                "; ---- full access: everything is allowed except the denials below ----\n\
                 (version 1)\n\
                 (allow default)\n",
            );
            if let Some(path) = cache_dir {
                out.parameter("DARWIN_USER_CACHE_DIR".to_string(), path);
            }
            let denied = rules::full_access_denied(policy, canonicalizer);
            let area = WritableArea::Everywhere { denied: &denied };
            let guarded = rename_guards::guarded_paths(
                &area,
                denied
                    .iter()
                    .map(|denied| denied.path.clone())
                    .chain(glob_prefixes.iter().cloned()),
                glob_prefixes.iter().cloned(),
            );
            render_denied(&mut out, &denied);
            render_deny_globs(&mut out, policy, canonicalizer)?;
            render_rename_guards(&mut out, guarded);
        }
    }
    out.section(TERMINAL);
    Ok(Profile {
        text: out.text,
        parameters: out.parameters,
    })
}

#[derive(Default)]
struct Output {
    text: String,
    parameters: Vec<(String, PathBuf)>,
}

impl Output {
    /// Register a parameter and return its name.
    fn parameter(&mut self, name: String, value: PathBuf) -> String {
        self.parameters.push((name.clone(), value));
        name
    }

    fn section(&mut self, text: &str) {
        self.text.push('\n');
        self.text.push_str(text);
    }

    fn header(&mut self, title: &str) {
        let _ = writeln!(self.text, "\n; ---- {title} ----");
    }
}

/// `DARWIN_USER_CACHE_DIR`, canonical, when it is known.
fn canonical_cache_dir(
    options: &SeatbeltOptions,
    canonicalizer: &dyn Canonicalize,
) -> Result<Option<PathBuf>, SeatbeltPlanError> {
    let Some(path) = options.darwin_user_cache_dir.as_deref() else {
        return Ok(None);
    };
    if !path.is_absolute() {
        return Err(SeatbeltPlanError::RelativePath {
            path: path.to_path_buf(),
        });
    }
    Ok(Some(resolve(
        canonicalizer,
        &codex_sandbox_policy::normalize(path),
    )))
}

/// The static directory part of every deny glob, as written and canonical.
fn glob_prefix_spellings(policy: &SandboxPolicy, canonicalizer: &dyn Canonicalize) -> Vec<PathBuf> {
    let mut spellings = Vec::new();
    for pattern in &policy.deny_globs {
        let (prefix, _) = glob::split_static_prefix(glob::trim_trailing_slashes(pattern));
        if prefix.is_empty() {
            continue;
        }
        let lexical = codex_sandbox_policy::normalize(Path::new(prefix));
        spellings.push(resolve(canonicalizer, &lexical));
        spellings.push(lexical);
    }
    spellings
}

fn render_reads(out: &mut Output, plan: &AccessPlan) {
    out.header("reads");
    match plan.read {
        ReadAccess::Everything => out.text.push_str("(allow file-read*)\n"),
        ReadAccess::Roots if plan.read_roots.is_empty() => {
            out.text
                .push_str("; nothing is readable beyond the sections below\n");
        }
        ReadAccess::Roots => {
            for (index, root) in plan.read_roots.iter().enumerate() {
                allow_root(out, "file-read*", &format!("READABLE_ROOT_{index}"), root);
            }
        }
    }
}

fn render_writes(out: &mut Output, plan: &AccessPlan) {
    out.header("writes");
    if plan.write_roots.is_empty() {
        out.text
            .push_str("; nothing is writable beyond the sections below\n");
    }
    for (index, root) in plan.write_roots.iter().enumerate() {
        allow_root(out, "file-write*", &format!("WRITABLE_ROOT_{index}"), root);
    }
}

/// `(allow <operation> <root minus every exclusion>)`. Each exclusion is written both as
/// `literal` and as `subpath`: `subpath` alone does not stop the excluded directory itself from
/// being created.
fn allow_root(out: &mut Output, operation: &str, name: &str, root: &AllowedRoot) {
    out.parameter(name.to_string(), root.path.clone());
    if root.excluded.is_empty() {
        let _ = writeln!(out.text, "(allow {operation} (subpath (param \"{name}\")))");
        return;
    }
    let _ = write!(
        out.text,
        "(allow {operation}\n  (require-all\n    (subpath (param \"{name}\"))"
    );
    for (index, excluded) in root.excluded.iter().enumerate() {
        let excluded_name = out.parameter(format!("{name}_EXCLUDED_{index}"), excluded.clone());
        let _ = write!(
            out.text,
            "\n    (require-not (literal (param \"{excluded_name}\")))\
             \n    (require-not (subpath (param \"{excluded_name}\")))"
        );
    }
    out.text.push_str("))\n");
}

fn render_network(out: &mut Output, cache_dir: Option<&str>) {
    out.section(NETWORK);
    if let Some(name) = cache_dir {
        let _ = writeln!(
            out.text,
            "; The networking frameworks keep their caches (TLS sessions, DNS) here.\n\
             (allow file-read* file-write* (subpath (param \"{name}\")))"
        );
    }
}

fn render_unix_sockets(
    out: &mut Output,
    policy: &SandboxPolicy,
    options: &SeatbeltOptions,
    canonicalizer: &dyn Canonicalize,
) -> Result<(), SeatbeltPlanError> {
    let mut sockets: Vec<PathBuf> = Vec::new();
    for path in policy
        .unix_sockets
        .iter()
        .chain(&options.extra_unix_sockets)
    {
        if !path.is_absolute() {
            return Err(SeatbeltPlanError::RelativePath { path: path.clone() });
        }
        let resolved = resolve(canonicalizer, &codex_sandbox_policy::normalize(path));
        if !sockets.contains(&resolved) {
            sockets.push(resolved);
        }
    }
    if sockets.is_empty() {
        return Ok(());
    }
    out.header("unix sockets");
    out.text
        .push_str("(allow system-socket (socket-domain AF_UNIX))\n");
    for (index, socket) in sockets.into_iter().enumerate() {
        let name = out.parameter(format!("UNIX_SOCKET_PATH_{index}"), socket);
        let _ = writeln!(
            out.text,
            "(allow network-bind (local unix-socket (subpath (param \"{name}\"))))\n\
             (allow network-outbound (remote unix-socket (subpath (param \"{name}\"))))"
        );
    }
    Ok(())
}

/// Trailing denies: a denied path stays denied even where the platform defaults or the base
/// profile would allow it, except for the roots nested below it (a more specific rule wins).
fn render_denied(out: &mut Output, denied: &[DeniedPath]) {
    if denied.is_empty() {
        return;
    }
    out.header("denied paths");
    for (index, path) in denied.iter().enumerate() {
        let name = out.parameter(format!("DENIED_PATH_{index}"), path.path.clone());
        if path.reopened_for_read.is_empty() && path.reopened_for_write.is_empty() {
            let _ = writeln!(
                out.text,
                "(deny file-read* file-write* (literal (param \"{name}\")) (subpath (param \"{name}\")))"
            );
            continue;
        }
        deny_except(
            out,
            "file-read*",
            &name,
            "READABLE_ROOT",
            &path.reopened_for_read,
        );
        deny_except(
            out,
            "file-write*",
            &name,
            "WRITABLE_ROOT",
            &path.reopened_for_write,
        );
    }
}

fn deny_except(
    out: &mut Output,
    operation: &str,
    name: &str,
    root_prefix: &str,
    reopened: &[usize],
) {
    if reopened.is_empty() {
        let _ = writeln!(
            out.text,
            "(deny {operation} (literal (param \"{name}\")) (subpath (param \"{name}\")))"
        );
        return;
    }
    let _ = write!(
        out.text,
        "(deny {operation}\n  (literal (param \"{name}\"))\n  (require-all\n    (subpath (param \"{name}\"))"
    );
    for index in reopened {
        let _ = write!(
            out.text,
            "\n    (require-not (subpath (param \"{root_prefix}_{index}\")))"
        );
    }
    out.text.push_str("))\n");
}

/// Each deny glob becomes an anchored regex, plus a second one spelled with the canonical form of
/// its static prefix (`/var/…` → `/private/var/…`) when that differs.
fn render_deny_globs(
    out: &mut Output,
    policy: &SandboxPolicy,
    canonicalizer: &dyn Canonicalize,
) -> Result<(), SeatbeltPlanError> {
    if policy.deny_globs.is_empty() {
        return Ok(());
    }
    out.header("deny globs");
    for pattern in &policy.deny_globs {
        let trimmed = glob::trim_trailing_slashes(pattern);
        let (prefix, rest) = glob::split_static_prefix(trimmed);
        let unsupported = |reason: String| SeatbeltPlanError::UnsupportedDenyGlob {
            pattern: pattern.clone(),
            reason,
        };
        let mut regexes = vec![glob::to_regex(prefix, rest).map_err(unsupported)?];
        if !prefix.is_empty() {
            let canonical = resolve(
                canonicalizer,
                &codex_sandbox_policy::normalize(Path::new(prefix)),
            );
            let canonical =
                canonical
                    .to_str()
                    .ok_or_else(|| SeatbeltPlanError::NonUtf8GlobPrefix {
                        pattern: pattern.clone(),
                    })?;
            let alternative = glob::to_regex(canonical, rest).map_err(unsupported)?;
            if !regexes.contains(&alternative) {
                regexes.push(alternative);
            }
        }
        let _ = writeln!(out.text, "; {}", comment_text(pattern));
        for regex in regexes {
            let _ = writeln!(
                out.text,
                "(deny file-read* file-write* (regex #\"{regex}\"))"
            );
        }
    }
    Ok(())
}

/// `text` safe inside a `;` comment: a comment ends at the end of the line, so no control
/// character (newline, carriage return, vertical tab, …) may reach the profile.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect()
}

/// `.codex` / `.agents` at any depth below a writable subtree, and protected `.git` entries in
/// any letter case (see `nested_metadata`).
fn render_nested_metadata(out: &mut Output, regexes: &[String]) {
    if regexes.is_empty() {
        return;
    }
    out.header("project metadata");
    out.text.push_str(
        "; `.codex` and `.agents` anywhere below a writable root are project configuration for a\n\
         ; later session; protected `.git` entries in any letter case (APFS ignores case).\n",
    );
    for regex in regexes {
        let _ = writeln!(out.text, "(deny file-write* (regex #\"{regex}\"))");
    }
}

/// The directory entries that must not be removed, renamed or replaced (see `rename_guards`).
fn render_rename_guards(out: &mut Output, guarded: Vec<PathBuf>) {
    if guarded.is_empty() {
        return;
    }
    out.header("rename guards");
    out.text.push_str(
        "; Carve-outs are matched by path: the directories above them (and every writable root)\n\
         ; may not be removed, renamed away, replaced or created.\n\
         (deny file-write-unlink file-write-create",
    );
    for (index, path) in guarded.into_iter().enumerate() {
        let name = out.parameter(format!("GUARDED_PATH_{index}"), path);
        let _ = write!(out.text, "\n  (literal (param \"{name}\"))");
    }
    out.text.push_str(")\n");
}
