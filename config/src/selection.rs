//! What a command decides about the sandbox on top of the files, as typed values from its flags
//! (`codex sandbox -P`, `--full-auto`, `--allow-unix-socket`; `codex exec --sandbox`,
//! `--add-dir`). None of it is formatted into a `-c` string and parsed again.

use std::path::PathBuf;

use codex_sandbox_policy::{Access, SandboxPolicy, normalize};
use toml::{Table, Value};

use crate::types::SandboxMode;

/// [`crate::LoaderOptions::sandbox`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxSelection {
    /// `-P NAME`: this permission profile, as if `default_permissions = NAME` were the last `-c`.
    pub permission_profile: Option<String>,
    /// `codex exec --sandbox MODE` (also `--full-auto`, `--yolo`): as if `sandbox_mode = MODE`
    /// were the last `-c`.
    pub mode: Option<SandboxMode>,
    /// `codex exec --add-dir`: absolute directories added to the configured
    /// `[sandbox_workspace_write] writable_roots` (not replacing them).
    pub add_writable_roots: Vec<PathBuf>,
    /// `codex sandbox`: the mode a legacy (or implicit) configuration runs when neither `-c
    /// sandbox_mode` nor [`Self::mode`] chose one. The files' `sandbox_mode` does not apply there
    /// (as upstream): `read-only`, or `workspace-write` for `--full-auto`. `None`: the files
    /// decide.
    pub legacy_fallback: Option<SandboxMode>,
    /// `--allow-unix-socket`: absolute socket paths the command may connect to, unless a deny
    /// rule covers them (an allowance never overrides a deny).
    pub unix_sockets: Vec<PathBuf>,
}

impl SandboxSelection {
    /// `default_permissions` and `sandbox_mode` set by the flags, into the `-c` table (they win
    /// over every `-c`, as the flags always did).
    pub(crate) fn apply_to_overrides(&self, overrides: &mut Table) {
        if let Some(name) = &self.permission_profile {
            overrides.insert("default_permissions".into(), Value::String(name.clone()));
        }
        if let Some(mode) = self.mode {
            overrides.insert("sandbox_mode".into(), Value::String(mode.as_str().into()));
        }
    }

    /// `--add-dir` roots appended to `writable_roots` in `table` (kept once each).
    pub(crate) fn extend_writable_roots(&self, table: &mut Table) {
        if self.add_writable_roots.is_empty() {
            return;
        }
        let section = table
            .entry("sandbox_workspace_write")
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(section) = section else {
            return;
        };
        let roots = section
            .entry("writable_roots")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(roots) = roots else {
            return;
        };
        for root in &self.add_writable_roots {
            let root = Value::String(normalize(root).to_string_lossy().into_owned());
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
    }

    /// `--allow-unix-socket` paths added to `policy`; then every allowed socket at a denied path
    /// is dropped.
    pub(crate) fn add_unix_sockets(&self, policy: &mut SandboxPolicy) {
        if self.unix_sockets.is_empty() {
            return;
        }
        for socket in &self.unix_sockets {
            let socket = normalize(socket);
            if !policy.unix_sockets.contains(&socket) {
                policy.unix_sockets.push(socket);
            }
        }
        let reachable: Vec<PathBuf> = policy
            .unix_sockets
            .iter()
            .filter(|socket| policy.access_for(socket) != Access::Deny)
            .cloned()
            .collect();
        policy.unix_sockets = reachable;
    }
}
