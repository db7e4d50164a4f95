//! A one-line, human-readable summary of a [`SandboxPolicy`], for `--dry-run` output and errors.
//!
//! - [`summarize`]: the summary, with paths shortened using the process environment.
//! - [`summarize_with`] + [`SummaryEnvironment`]: the same with an explicit environment.
//! - [`describe`], [`describe_with`]: the policy in words (what is writable, readable, hidden,
//!   whether the network is on), for `--dry-run`.
//!
//! The format is stable:
//!
//! ```text
//! read-only (network disabled)
//! read-only, +1 denied (network disabled)
//! workspace-write [cwd, /tmp, $TMPDIR] (network disabled)
//! profile dev: read /, write [cwd, /tmp], deny [~/.ssh] (network enabled)
//! profile docs: read [:minimal, ~/docs], deny [~/docs/private] (network disabled, 1 unix socket)
//! danger-full-access, +1 denied
//! ```
//!
//! Built-in profiles (`:read-only`, `:workspace`, `:danger-full-access` and the legacy mode
//! names) are named by their mode and only mention what differs from it (a restricted read set,
//! the number of denials); other profiles spell out reads, writes and denials. Paths are shown
//! as `cwd`, `$TMPDIR` (when equal to the `TMPDIR` environment variable) or `~` plus the rest,
//! whichever anchor is most specific. Lists show at most four entries, then `+N more`.

mod describe;

use std::path::{Path, PathBuf};

use codex_sandbox_policy::{Access, Enforcement, NetworkAccess, SandboxPolicy};

pub use describe::{describe, describe_with};

/// Directories that paths are shown relative to (besides the policy's own `cwd`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryEnvironment {
    /// `$TMPDIR`.
    pub tmpdir: Option<PathBuf>,
    /// `$HOME`, shown as `~`.
    pub home: Option<PathBuf>,
}

impl SummaryEnvironment {
    /// `TMPDIR` and `HOME` from the process environment (ignored unless absolute).
    pub fn from_process() -> Self {
        let absolute = |name: &str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|path| path.is_absolute())
        };
        SummaryEnvironment {
            tmpdir: absolute("TMPDIR"),
            home: absolute("HOME"),
        }
    }
}

/// Summarise `policy` on one line, using `TMPDIR` and `HOME` from the process environment.
pub fn summarize(policy: &SandboxPolicy) -> String {
    summarize_with(policy, &SummaryEnvironment::from_process())
}

/// Summarise `policy` on one line.
pub fn summarize_with(policy: &SandboxPolicy, environment: &SummaryEnvironment) -> String {
    let names = Names::new(policy, environment);
    let denied = policy.denied_paths().count() + policy.deny_globs.len();
    let mut kind = Kind::of(&policy.profile);
    if policy.enforcement == Enforcement::FullAccess {
        let mut summary = match kind {
            Kind::Named => format!("profile {}: danger-full-access", policy.profile),
            _ => Kind::FullAccess.label().to_string(),
        };
        if denied > 0 {
            summary.push_str(&format!(", +{denied} denied"));
        }
        return summary;
    }
    if kind == Kind::FullAccess {
        // A full-access name on a managed policy: describe what is really enforced.
        kind = Kind::Named;
    }

    let writable: Vec<String> = writable_roots(policy)
        .iter()
        .map(|path| names.name(path))
        .collect();
    let mut parts: Vec<String> = Vec::new();
    let mut summary = match kind {
        Kind::ReadOnly | Kind::WorkspaceWrite => {
            let mut head = kind.label().to_string();
            if !writable.is_empty() {
                head.push(' ');
                head.push_str(&list(&writable));
            }
            if !policy.has_full_read() {
                parts.push(format!("read {}", read_set(policy, &names)));
            }
            if denied > 0 {
                parts.push(format!("+{denied} denied"));
            }
            head
        }
        Kind::Named | Kind::FullAccess => {
            parts.push(format!("read {}", read_set(policy, &names)));
            if !writable.is_empty() {
                parts.push(format!("write {}", list(&writable)));
            }
            let denials: Vec<String> = policy
                .denied_paths()
                .map(|path| names.name(path))
                .chain(
                    policy
                        .deny_globs
                        .iter()
                        .map(|glob| names.name(Path::new(glob.as_str()))),
                )
                .collect();
            if !denials.is_empty() {
                parts.push(format!("deny {}", list(&denials)));
            }
            format!("profile {}:", policy.profile)
        }
    };
    for (index, part) in parts.iter().enumerate() {
        summary.push_str(if index == 0 && kind == Kind::Named {
            " "
        } else {
            ", "
        });
        summary.push_str(part);
    }
    summary.push_str(&network(policy));
    summary
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ReadOnly,
    WorkspaceWrite,
    FullAccess,
    /// A user profile, or a built-in name whose enforcement does not match it.
    Named,
}

impl Kind {
    fn of(profile: &str) -> Kind {
        match profile {
            ":read-only" | "read-only" => Kind::ReadOnly,
            ":workspace" | "workspace-write" => Kind::WorkspaceWrite,
            ":danger-full-access" | ":danger-no-sandbox" | "danger-full-access" => Kind::FullAccess,
            _ => Kind::Named,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::ReadOnly => "read-only",
            Kind::WorkspaceWrite => "workspace-write",
            Kind::FullAccess => "danger-full-access",
            Kind::Named => "profile",
        }
    }
}

/// Writable roots, those inside `cwd` first, otherwise in policy order.
fn writable_roots(policy: &SandboxPolicy) -> Vec<&Path> {
    let (inside, outside): (Vec<&Path>, Vec<&Path>) = policy
        .writable_roots
        .iter()
        .map(|root| root.root.as_path())
        .partition(|root| root.starts_with(&policy.cwd));
    inside.into_iter().chain(outside).collect()
}

/// `/` when everything is readable, otherwise `:minimal` and every read rule whose nearest
/// enclosing rule does not already grant reads (writable roots are listed under `write`).
fn read_set(policy: &SandboxPolicy, names: &Names) -> String {
    if policy.access_for(Path::new("/")).can_read() {
        return "/".to_string();
    }
    let mut entries: Vec<String> = Vec::new();
    if policy.platform_defaults {
        entries.push(":minimal".to_string());
    }
    for rule in &policy.rules {
        let enclosing = policy
            .rules
            .iter()
            .filter(|other| other.path != rule.path && rule.path.starts_with(&other.path))
            .max_by_key(|other| other.path.components().count());
        let reopened = enclosing.is_none_or(|other| !other.access.can_read());
        if rule.access == Access::Read && reopened {
            entries.push(names.name(&rule.path));
        }
    }
    if entries.is_empty() {
        "nothing".to_string()
    } else {
        list(&entries)
    }
}

fn network(policy: &SandboxPolicy) -> String {
    let state = match policy.network {
        NetworkAccess::Enabled => "network enabled",
        NetworkAccess::Restricted => "network disabled",
    };
    match policy.unix_sockets.len() {
        0 => format!(" ({state})"),
        1 => format!(" ({state}, 1 unix socket)"),
        count => format!(" ({state}, {count} unix sockets)"),
    }
}

const MAX_LISTED: usize = 4;

fn list(entries: &[String]) -> String {
    let shown: Vec<&str> = entries
        .iter()
        .take(MAX_LISTED)
        .map(String::as_str)
        .collect();
    let mut text = format!("[{}", shown.join(", "));
    if entries.len() > MAX_LISTED {
        text.push_str(&format!(", +{} more", entries.len() - MAX_LISTED));
    }
    text.push(']');
    text
}

/// Short names for paths: relative to the most specific of `cwd`, `$TMPDIR` and `~`.
struct Names {
    anchors: Vec<(PathBuf, &'static str)>,
}

impl Names {
    fn new(policy: &SandboxPolicy, environment: &SummaryEnvironment) -> Self {
        let mut anchors = vec![(policy.cwd.clone(), "cwd")];
        if let Some(tmpdir) = &environment.tmpdir {
            anchors.push((codex_sandbox_policy::normalize(tmpdir), "$TMPDIR"));
        }
        if let Some(home) = &environment.home {
            anchors.push((codex_sandbox_policy::normalize(home), "~"));
        }
        // `/` would turn every path into an anchor-relative one; keep absolute paths instead.
        anchors.retain(|(anchor, _)| anchor.parent().is_some());
        Names { anchors }
    }

    fn name(&self, path: &Path) -> String {
        let best = self
            .anchors
            .iter()
            .filter_map(|(anchor, token)| {
                path.strip_prefix(anchor)
                    .ok()
                    .map(|rest| (anchor.components().count(), *token, rest))
            })
            .max_by_key(|(depth, _, _)| *depth);
        match best {
            Some((_, token, rest)) if rest.as_os_str().is_empty() => token.to_string(),
            Some((_, token, rest)) => format!("{token}/{}", rest.display()),
            None => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use codex_sandbox_policy::{PathRule, WritableRoot};

    use super::*;

    fn policy(profile: &str, rules: &[(&str, Access)]) -> SandboxPolicy {
        SandboxPolicy {
            profile: profile.to_string(),
            enforcement: Enforcement::Managed,
            cwd: PathBuf::from("/home/dev/repo"),
            rules: rules
                .iter()
                .map(|(path, access)| PathRule {
                    path: PathBuf::from(path),
                    access: *access,
                })
                .collect(),
            platform_defaults: false,
            deny_globs: Vec::new(),
            glob_scan_max_depth: None,
            writable_roots: rules
                .iter()
                .filter(|(_, access)| *access == Access::Write)
                .map(|(path, _)| WritableRoot {
                    root: PathBuf::from(path),
                    protected: Vec::new(),
                })
                .collect(),
            network: NetworkAccess::Restricted,
            unix_sockets: Vec::new(),
        }
    }

    fn environment() -> SummaryEnvironment {
        SummaryEnvironment {
            tmpdir: Some(PathBuf::from("/var/tmp/dev/")),
            home: Some(PathBuf::from("/home/dev")),
        }
    }

    fn summary(policy: &SandboxPolicy) -> String {
        summarize_with(policy, &environment())
    }

    #[test]
    fn read_only() {
        let policy = policy(":read-only", &[("/", Access::Read)]);
        assert_eq!(summary(&policy), "read-only (network disabled)");
    }

    #[test]
    fn read_only_with_a_denied_credential_file() {
        let policy = policy(
            "read-only",
            &[
                ("/", Access::Read),
                ("/home/dev/.codex/auth.json", Access::Deny),
            ],
        );
        assert_eq!(summary(&policy), "read-only, +1 denied (network disabled)");
    }

    #[test]
    fn workspace_write_names_cwd_tmp_and_tmpdir() {
        let policy = policy(
            ":workspace",
            &[
                ("/", Access::Read),
                ("/home/dev/repo", Access::Write),
                ("/tmp", Access::Write),
                ("/var/tmp/dev", Access::Write),
            ],
        );
        assert_eq!(
            summary(&policy),
            "workspace-write [cwd, /tmp, $TMPDIR] (network disabled)"
        );
    }

    #[test]
    fn workspace_write_with_network_and_sockets() {
        let mut policy = policy(
            "workspace-write",
            &[
                ("/", Access::Read),
                ("/tmp", Access::Write),
                ("/home/dev/repo", Access::Write),
            ],
        );
        policy.network = NetworkAccess::Enabled;
        policy.unix_sockets = vec![PathBuf::from("/run/a.sock"), PathBuf::from("/run/b.sock")];
        assert_eq!(
            summary(&policy),
            "workspace-write [cwd, /tmp] (network enabled, 2 unix sockets)"
        );
    }

    #[test]
    fn named_profile_spells_out_reads_writes_and_denials() {
        let mut policy = policy(
            "dev",
            &[
                ("/", Access::Read),
                ("/home/dev/.ssh", Access::Deny),
                ("/home/dev/repo", Access::Write),
                ("/tmp", Access::Write),
            ],
        );
        policy.network = NetworkAccess::Enabled;
        assert_eq!(
            summary(&policy),
            "profile dev: read /, write [cwd, /tmp], deny [~/.ssh] (network enabled)"
        );
    }

    #[test]
    fn named_profile_with_restricted_reads_and_globs() {
        let mut policy = policy(
            "docs",
            &[
                ("/home/dev/docs", Access::Read),
                ("/home/dev/docs/private", Access::Deny),
                ("/home/dev/docs/private/public", Access::Read),
                ("/home/dev/docs/sub", Access::Read),
            ],
        );
        policy.platform_defaults = true;
        policy.deny_globs =
            vec![codex_sandbox_policy::DenyGlob::parse("/home/dev/repo/**/*.env").unwrap()];
        policy.unix_sockets = vec![PathBuf::from("/run/agent.sock")];
        assert_eq!(
            summary(&policy),
            "profile docs: read [:minimal, ~/docs, ~/docs/private/public], \
             deny [~/docs/private, cwd/**/*.env] (network disabled, 1 unix socket)"
        );
    }

    #[test]
    fn nothing_readable_and_long_lists() {
        let policy = policy(
            "cage",
            &[
                ("/a", Access::Deny),
                ("/b", Access::Deny),
                ("/c", Access::Deny),
                ("/d", Access::Deny),
                ("/e", Access::Deny),
                ("/f", Access::Deny),
            ],
        );
        assert_eq!(
            summary(&policy),
            "profile cage: read nothing, deny [/a, /b, /c, /d, +2 more] (network disabled)"
        );
    }

    #[test]
    fn builtin_with_restricted_reads_mentions_them() {
        let mut policy = policy(":read-only", &[("/home/dev/repo", Access::Read)]);
        policy.platform_defaults = true;
        assert_eq!(
            summary(&policy),
            "read-only, read [:minimal, cwd] (network disabled)"
        );
    }

    #[test]
    fn full_access() {
        let mut policy = policy(":danger-full-access", &[]);
        policy.enforcement = Enforcement::FullAccess;
        policy.network = NetworkAccess::Enabled;
        assert_eq!(summary(&policy), "danger-full-access");
        policy.rules.push(PathRule {
            path: PathBuf::from("/home/dev/.codex/auth.json"),
            access: Access::Deny,
        });
        assert_eq!(summary(&policy), "danger-full-access, +1 denied");
        policy.profile = "yolo".to_string();
        assert_eq!(
            summary(&policy),
            "profile yolo: danger-full-access, +1 denied"
        );
    }

    #[test]
    fn most_specific_anchor_wins_and_root_is_never_an_anchor() {
        let names = Names::new(
            &policy("x", &[]),
            &SummaryEnvironment {
                tmpdir: Some(PathBuf::from("/")),
                home: Some(PathBuf::from("/home/dev")),
            },
        );
        assert_eq!(names.name(Path::new("/home/dev/repo/src")), "cwd/src");
        assert_eq!(names.name(Path::new("/home/dev/notes")), "~/notes");
        assert_eq!(names.name(Path::new("/home/dev")), "~");
        assert_eq!(names.name(Path::new("/etc")), "/etc");
    }
}
