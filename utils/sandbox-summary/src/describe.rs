//! [`describe`]: the policy in words, for `codex sandbox --dry-run` (what is writable, what stays
//! read-only inside it, what is readable, what is hidden, whether the network is on).
//!
//! ```text
//! read-only: writes nothing; reads everything but 2 hidden paths [~/.codex, ~/.codex/auth.json]; network off
//! workspace-write: writes [cwd, /tmp] except [.git, .codex, .agents] in them; reads everything but 1 hidden path [~/.codex]; network off
//! profile docs: writes nothing; reads only [:minimal, ~/docs] but 1 hidden path [~/docs/private]; network on, 1 unix socket [/run/app.sock]
//! danger-full-access: writes and reads everything but 1 hidden path [~/.codex]; network on
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use codex_sandbox_policy::{Enforcement, NetworkAccess, SandboxPolicy};

use super::{Kind, Names, SummaryEnvironment, list, read_set, writable_roots};

/// [`describe_with`] using `TMPDIR` and `HOME` from the process environment.
pub fn describe(policy: &SandboxPolicy) -> String {
    describe_with(policy, &SummaryEnvironment::from_process())
}

/// The policy in words, on one line (see the module documentation).
pub fn describe_with(policy: &SandboxPolicy, environment: &SummaryEnvironment) -> String {
    let names = Names::new(policy, environment);
    let head = match Kind::of(&policy.profile) {
        Kind::Named => format!("profile {}", policy.profile),
        kind => kind.label().to_string(),
    };
    let hidden: Vec<String> = policy
        .denied_paths()
        .map(|path| names.name(path))
        .chain(
            policy
                .deny_globs
                .iter()
                .map(|glob| names.name(Path::new(glob.as_str()))),
        )
        .collect();
    let hidden_part = match hidden.len() {
        0 => String::new(),
        1 => format!(" but 1 hidden path {}", list(&hidden)),
        count => format!(" but {count} hidden paths {}", list(&hidden)),
    };
    if policy.enforcement == Enforcement::FullAccess {
        return format!("{head}: writes and reads everything{hidden_part}; network on");
    }
    let writable: Vec<String> = writable_roots(policy)
        .iter()
        .map(|path| names.name(path))
        .collect();
    let writes = if writable.is_empty() {
        "writes nothing".to_string()
    } else {
        // The names kept read-only inside the writable roots (`.git`, `.codex`, …).
        let kept: BTreeSet<String> = policy
            .writable_roots
            .iter()
            .flat_map(|root| root.protected.iter())
            .filter_map(|protected| protected.path.file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        let kept: Vec<String> = kept.into_iter().collect();
        if kept.is_empty() {
            format!("writes {}", list(&writable))
        } else {
            format!("writes {} except {} in them", list(&writable), list(&kept))
        }
    };
    let reads = if policy.has_full_read() {
        "reads everything".to_string()
    } else {
        format!("reads only {}", read_set(policy, &names))
    };
    let mut network = match policy.network {
        NetworkAccess::Enabled => "network on".to_string(),
        NetworkAccess::Restricted => "network off".to_string(),
    };
    let sockets: Vec<String> = policy
        .unix_sockets
        .iter()
        .map(|socket| socket.display().to_string())
        .collect();
    match sockets.len() {
        0 => {}
        1 => network.push_str(&format!(", 1 unix socket {}", list(&sockets))),
        count => network.push_str(&format!(", {count} unix sockets {}", list(&sockets))),
    }
    format!("{head}: {writes}; {reads}{hidden_part}; {network}")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use codex_sandbox_policy::{
        Access, PathRule, ProtectedKind, ProtectedPath, SandboxPolicy, WritableRoot,
    };

    use super::*;

    fn environment() -> SummaryEnvironment {
        SummaryEnvironment {
            tmpdir: None,
            home: Some(PathBuf::from("/home/dev")),
        }
    }

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
            writable_roots: Vec::new(),
            network: NetworkAccess::Restricted,
            unix_sockets: Vec::new(),
        }
    }

    #[test]
    fn says_what_is_writable_readable_hidden_and_the_network() {
        let read_only = policy(
            ":read-only",
            &[
                ("/", Access::Read),
                ("/home/dev/.codex", Access::Deny),
                ("/home/dev/.codex/auth.json", Access::Deny),
            ],
        );
        assert_eq!(
            describe_with(&read_only, &environment()),
            "read-only: writes nothing; reads everything but 2 hidden paths [~/.codex, ~/.codex/auth.json]; network off"
        );

        let mut workspace = policy(
            ":workspace",
            &[
                ("/", Access::Read),
                ("/home/dev/repo", Access::Write),
                ("/tmp", Access::Write),
                ("/home/dev/.codex", Access::Deny),
            ],
        );
        workspace.writable_roots = vec![
            WritableRoot {
                root: PathBuf::from("/home/dev/repo"),
                protected: [".git", ".codex", ".agents"]
                    .iter()
                    .map(|name| ProtectedPath {
                        path: PathBuf::from("/home/dev/repo").join(name),
                        kind: ProtectedKind::Metadata,
                    })
                    .collect(),
            },
            WritableRoot {
                root: PathBuf::from("/tmp"),
                protected: Vec::new(),
            },
        ];
        assert_eq!(
            describe_with(&workspace, &environment()),
            "workspace-write: writes [cwd, /tmp] except [.agents, .codex, .git] in them; reads everything but 1 hidden path [~/.codex]; network off"
        );

        let mut docs = policy("docs", &[("/home/dev/docs", Access::Read)]);
        docs.platform_defaults = true;
        docs.network = NetworkAccess::Enabled;
        docs.unix_sockets = vec![PathBuf::from("/run/app.sock")];
        assert_eq!(
            describe_with(&docs, &environment()),
            "profile docs: writes nothing; reads only [:minimal, ~/docs]; network on, 1 unix socket [/run/app.sock]"
        );

        let mut full = policy(":danger-full-access", &[]);
        full.enforcement = Enforcement::FullAccess;
        full.network = NetworkAccess::Enabled;
        assert_eq!(
            describe_with(&full, &environment()),
            "danger-full-access: writes and reads everything; network on"
        );
    }
}
