//! What the first request starts with: the base instructions, AGENTS.md from the repository root
//! down to the working directory, and the `<environment_context>` message.

use std::path::{Path, PathBuf};

use codex_model_client::{ContentItem, ResponseItem};
use codex_sandboxing::{Enforcement, NetworkAccess, SandboxPolicy};

use crate::safe_read::ReadGuard;

/// Our own base instructions (sent as the first `developer` message).
pub const BASE_INSTRUCTIONS: &str = include_str!("instructions.md");

/// `project_doc_max_bytes` when the configuration does not say.
pub const DEFAULT_PROJECT_DOC_MAX_BYTES: usize = 32 * 1024;

/// The file looked for in every directory.
const AGENTS_FILE: &str = "AGENTS.md";

/// AGENTS.md texts found, root first, with what went wrong on the way.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProjectDocs {
    /// `(path, text)`, root first, within the byte budget.
    pub files: Vec<(PathBuf, String)>,
    /// Problems worth a warning (a refused symlink, a truncation).
    pub warnings: Vec<String>,
}

impl ProjectDocs {
    /// The joined text (blank line between files); `None` when nothing was found.
    pub fn joined(&self) -> Option<String> {
        (!self.files.is_empty()).then(|| {
            self.files
                .iter()
                .map(|(_, text)| text.trim_end())
                .collect::<Vec<_>>()
                .join("\n\n")
        })
    }
}

/// The repository root: the nearest ancestor of `cwd` (itself included) holding `.git` (file
/// or directory). Found by looking at the directory entries only: no `git` is run.
pub fn git_root(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

/// AGENTS.md of every directory from the git root (or `cwd` alone outside git) down to `cwd`,
/// read through `guard` (a planted symbolic link to a secret is refused), within `max_bytes` in
/// all (`0` disables).
pub fn discover_project_docs(cwd: &Path, max_bytes: usize, guard: &ReadGuard) -> ProjectDocs {
    let mut docs = ProjectDocs::default();
    if max_bytes == 0 {
        return docs;
    }
    let root = git_root(cwd).unwrap_or_else(|| cwd.to_path_buf());
    let mut dirs: Vec<&Path> = cwd
        .ancestors()
        .take_while(|dir| dir.starts_with(&root))
        .collect();
    dirs.reverse();
    let mut remaining = max_bytes;
    for dir in dirs {
        let path = dir.join(AGENTS_FILE);
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        if remaining == 0 {
            docs.warnings.push(format!(
                "`{}` was not sent: `project_doc_max_bytes` ({max_bytes}) is used up",
                path.display()
            ));
            continue;
        }
        match guard.read(&path, dir, remaining as u64) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                remaining -= bytes.len();
                docs.files.push((path, text));
            }
            Err(crate::safe_read::SafeReadError::TooLarge { .. }) => {
                // Keep what fits, cut at a character boundary.
                match guard.read(&path, dir, u64::MAX >> 1) {
                    Ok(bytes) => {
                        let mut end = remaining.min(bytes.len());
                        let text = loop {
                            match std::str::from_utf8(&bytes[..end]) {
                                Ok(text) => break text.to_string(),
                                Err(error) if error.valid_up_to() > 0 || end == 0 => {
                                    break String::from_utf8_lossy(&bytes[..error.valid_up_to()])
                                        .into_owned();
                                }
                                Err(_) => end -= 1,
                            }
                        };
                        docs.warnings.push(format!(
                            "`{}` was cut to `project_doc_max_bytes` ({max_bytes})",
                            path.display()
                        ));
                        remaining = 0;
                        docs.files.push((path, text));
                    }
                    Err(error) => docs.warnings.push(format!("AGENTS.md skipped: {error}")),
                }
            }
            Err(error) => docs.warnings.push(format!("AGENTS.md skipped: {error}")),
        }
    }
    docs
}

/// The first `user` message: AGENTS.md (when any) and the environment context, as two parts.
pub fn initial_context_message(cwd: &Path, docs: &ProjectDocs, environment: &str) -> ResponseItem {
    let mut content = Vec::new();
    if let Some(text) = docs.joined() {
        content.push(ContentItem::InputText {
            text: format!(
                "# AGENTS.md instructions for {}\n\n<INSTRUCTIONS>\n{text}\n</INSTRUCTIONS>",
                cwd.display()
            ),
        });
    }
    content.push(ContentItem::InputText {
        text: environment.to_string(),
    });
    ResponseItem::Message {
        id: None,
        role: "user".into(),
        content,
        status: None,
    }
}

/// The sandbox mode name the model sees.
pub fn sandbox_mode_name(policy: &SandboxPolicy) -> &'static str {
    if policy.enforcement == Enforcement::FullAccess {
        "danger-full-access"
    } else if policy.writable_roots.is_empty() {
        "read-only"
    } else {
        "workspace-write"
    }
}

/// `<environment_context>`: cwd, approval, sandbox mode, writable roots, network, shell, date.
pub fn environment_context(cwd: &Path, policy: &SandboxPolicy, date: &str) -> String {
    let mut text = String::from("<environment_context>\n");
    text.push_str(&format!(
        "  <cwd>{}</cwd>\n",
        escape(&cwd.display().to_string())
    ));
    text.push_str("  <approval_policy>never</approval_policy>\n");
    text.push_str(&format!(
        "  <sandbox_mode>{}</sandbox_mode>\n",
        sandbox_mode_name(policy)
    ));
    if policy.enforcement != Enforcement::FullAccess && !policy.writable_roots.is_empty() {
        text.push_str("  <writable_roots>\n");
        for root in &policy.writable_roots {
            text.push_str(&format!(
                "    <root>{}</root>\n",
                escape(&root.root.display().to_string())
            ));
        }
        text.push_str("  </writable_roots>\n");
    }
    let network = match (policy.enforcement, policy.network) {
        (Enforcement::FullAccess, _) | (_, NetworkAccess::Enabled) => "enabled",
        (_, NetworkAccess::Restricted) => "restricted",
    };
    text.push_str(&format!("  <network_access>{network}</network_access>\n"));
    text.push_str("  <shell>bash</shell>\n");
    text.push_str(&format!("  <current_date>{date}</current_date>\n"));
    text.push_str("</environment_context>");
    text
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_sandboxing::{Access, PathRule};

    fn read_all_policy() -> SandboxPolicy {
        SandboxPolicy {
            profile: "read-only".into(),
            enforcement: Enforcement::Managed,
            cwd: PathBuf::from("/"),
            rules: vec![PathRule {
                path: PathBuf::from("/"),
                access: Access::Read,
            }],
            platform_defaults: false,
            deny_globs: Vec::new(),
            glob_scan_max_depth: None,
            writable_roots: Vec::new(),
            network: NetworkAccess::Restricted,
            unix_sockets: Vec::new(),
        }
    }

    #[test]
    fn agents_md_root_to_cwd_within_budget_and_symlinks_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("auth.json"), "SECRET").unwrap();
        let repo = root.join("repo");
        let sub = repo.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        std::fs::write(repo.join("AGENTS.md"), "root rules\n").unwrap();
        std::os::unix::fs::symlink(home.join("auth.json"), repo.join("a/AGENTS.md")).unwrap();
        std::fs::write(sub.join("AGENTS.md"), "deep rules é").unwrap();
        let guard = ReadGuard::new(&read_all_policy(), &home);
        let docs = discover_project_docs(&sub, 1000, &guard);
        assert_eq!(docs.joined().as_deref(), Some("root rules\n\ndeep rules é"));
        assert_eq!(docs.warnings.len(), 1, "{:?}", docs.warnings);
        assert!(!docs.joined().unwrap().contains("SECRET"));
        let cut = discover_project_docs(&sub, 12, &guard);
        assert_eq!(cut.joined().as_deref(), Some("root rules\n\nd"));
        assert!(discover_project_docs(&sub, 0, &guard).files.is_empty());
    }

    #[test]
    fn environment_context_names_mode_roots_and_network() {
        let text = environment_context(Path::new("/w<x>"), &read_all_policy(), "2026-01-02");
        assert_eq!(
            text,
            "<environment_context>\n  <cwd>/w&lt;x&gt;</cwd>\n  <approval_policy>never</approval_policy>\n  <sandbox_mode>read-only</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n  <current_date>2026-01-02</current_date>\n</environment_context>"
        );
    }
}
