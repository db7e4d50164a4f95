//! `[linux_sandbox]` and the Linux backend choice, resolved into [`LinuxSandboxSettings`].
//!
//! ```toml
//! [linux_sandbox]
//! bwrap_path = "/opt/bubblewrap/bin/bwrap"  # system, user, profile or -c layers only
//! max_processes = 4096                      # per sandbox; 0 = no limit
//! landlock_layer = true                     # Landlock inside bubblewrap as a second layer
//! require_process_limit = false             # refuse when nothing can hold max_processes
//! ```
//!
//! `max_processes` holds through a pids cgroup per run when codex can create one (root usually
//! can), else through `RLIMIT_NPROC`, which binds every user but root. `require_process_limit`
//! decides what happens as root with no usable pids cgroup (a container whose cgroup file system
//! is read-only, say): by default the command runs without a process limit and the enforcement
//! report says so (`process limit: none`); with `true` codex refuses to run. The default is off
//! because the limit guards the host's availability (a fork bomb), not what the command can
//! read, write or reach, and refusing would stop root in most containers, which often bound
//! the container's process count themselves.
//!
//! `bwrap_path` names a program codex runs *outside* the sandbox, so a project layer
//! (`.codex/config.toml`, which a repository ships) cannot set it: such a value is ignored with a
//! warning. A project layer may likewise only tighten the other keys (a lower `max_processes`,
//! `require_process_limit = true`); turning the Landlock layer or the limit off is ignored with
//! a warning.

use std::path::PathBuf;

use toml::Value;

use crate::layers::{ConfigLayer, LayerSource};
use crate::merge::get_path;

/// The default `max_processes`: far above what builds and test runners use (threads count too),
/// far below what exhausts a host's process table.
pub const DEFAULT_MAX_PROCESSES: u64 = 4096;

/// Which Linux mechanism enforces the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinuxSandboxBackend {
    /// bubblewrap (namespaces + mounts) + seccomp, with Landlock inside as a second layer.
    #[default]
    Bubblewrap,
    /// Landlock + seccomp without namespaces (`use_legacy_landlock`).
    Landlock,
}

/// The resolved `[linux_sandbox]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinuxSandboxSettings {
    pub backend: LinuxSandboxBackend,
    /// An explicit bubblewrap (absolute, from a system/user/profile/`-c` layer).
    pub bwrap_path: Option<PathBuf>,
    /// The most processes (and threads) the sandboxed command may have at once; `None` = no limit.
    pub max_processes: Option<u64>,
    /// Apply Landlock inside bubblewrap as a second layer (refused when the kernel lacks it).
    pub landlock_layer: bool,
    /// Refuse to run when `max_processes` is set and cannot hold (root without a pids cgroup).
    pub require_process_limit: bool,
}

impl Default for LinuxSandboxSettings {
    fn default() -> Self {
        LinuxSandboxSettings {
            backend: LinuxSandboxBackend::default(),
            bwrap_path: None,
            max_processes: Some(DEFAULT_MAX_PROCESSES),
            landlock_layer: true,
            require_process_limit: false,
        }
    }
}

const BWRAP_PATH: [&str; 2] = ["linux_sandbox", "bwrap_path"];

pub(crate) fn resolve(
    layers: &[ConfigLayer],
    use_legacy_landlock: bool,
    warnings: &mut Vec<String>,
) -> LinuxSandboxSettings {
    let mut settings = LinuxSandboxSettings {
        backend: if use_legacy_landlock {
            LinuxSandboxBackend::Landlock
        } else {
            LinuxSandboxBackend::Bubblewrap
        },
        ..LinuxSandboxSettings::default()
    };
    let path: Vec<String> = BWRAP_PATH.iter().map(|part| part.to_string()).collect();
    for layer in layers.iter().rev().filter(|layer| layer.enabled()) {
        let Some(value) = get_path(&layer.table, &path) else {
            continue;
        };
        if matches!(layer.source, LayerSource::Project { .. }) {
            warnings.push(format!(
                "ignoring `linux_sandbox.bwrap_path` from {}: a project layer may not choose a program codex runs outside the sandbox; set it in `$CODEX_HOME/config.toml` instead",
                layer.source.display_name()
            ));
            continue;
        }
        if let Some(text) = value.as_str() {
            settings.bwrap_path = Some(PathBuf::from(text));
        }
        break;
    }
    // Lowest precedence first; a project layer (shipped with a repository) may only tighten
    // what the user's layers allow, never turn a protection off.
    for layer in layers.iter().filter(|layer| layer.enabled()) {
        let project = matches!(layer.source, LayerSource::Project { .. });
        let value = |key: &str| {
            get_path(
                &layer.table,
                &["linux_sandbox".to_string(), key.to_string()],
            )
        };
        let mut loosened = Vec::new();
        if let Some(Value::Integer(limit)) = value("max_processes") {
            let limit = u64::try_from(*limit).ok().filter(|limit| *limit > 0);
            let tighter = match (limit, settings.max_processes) {
                (Some(new), Some(old)) => new <= old,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if project && !tighter {
                loosened.push("max_processes");
            } else {
                settings.max_processes = limit;
            }
        }
        if let Some(Value::Boolean(enabled)) = value("landlock_layer") {
            if project && !enabled {
                loosened.push("landlock_layer");
            } else {
                settings.landlock_layer = *enabled;
            }
        }
        if let Some(Value::Boolean(required)) = value("require_process_limit") {
            if project && !required {
                loosened.push("require_process_limit");
            } else {
                settings.require_process_limit = *required;
            }
        }
        for key in loosened {
            warnings.push(format!(
                "ignoring `linux_sandbox.{key}` from {}: a project layer may only tighten the sandbox; set it in `$CODEX_HOME/config.toml` instead",
                layer.source.display_name()
            ));
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn layer(source: LayerSource, text: &str) -> ConfigLayer {
        ConfigLayer::new(source, toml::from_str(text).unwrap())
    }

    #[test]
    fn defaults() {
        let mut warnings = Vec::new();
        let settings = resolve(&[], false, &mut warnings);
        assert_eq!(settings, LinuxSandboxSettings::default());
        assert_eq!(settings.max_processes, Some(DEFAULT_MAX_PROCESSES));
        assert!(settings.landlock_layer);
        assert!(!settings.require_process_limit);
        assert_eq!(
            resolve(&[], true, &mut warnings).backend,
            LinuxSandboxBackend::Landlock
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_project_layer_cannot_choose_bwrap() {
        let user = layer(
            LayerSource::User {
                file: PathBuf::from("/home/u/.codex/config.toml"),
                profile: None,
            },
            "[linux_sandbox]\nbwrap_path = '/opt/bwrap'\nmax_processes = 100\nrequire_process_limit = true\n",
        );
        let project = layer(
            LayerSource::Project {
                dot_codex: PathBuf::from("/repo/.codex"),
            },
            "[linux_sandbox]\nbwrap_path = '/repo/evil/bwrap'\nmax_processes = 0\nlandlock_layer = false\n",
        );
        let mut warnings = Vec::new();
        let settings = resolve(&[user, project], false, &mut warnings);
        assert_eq!(
            settings.bwrap_path.as_deref(),
            Some(Path::new("/opt/bwrap"))
        );
        // A repository may not turn the limit or the second layer off.
        assert_eq!(settings.max_processes, Some(100));
        assert!(settings.landlock_layer);
        assert!(settings.require_process_limit);
        assert_eq!(
            warnings,
            vec![
                "ignoring `linux_sandbox.bwrap_path` from project (/repo/.codex/config.toml): a project layer may not choose a program codex runs outside the sandbox; set it in `$CODEX_HOME/config.toml` instead",
                "ignoring `linux_sandbox.max_processes` from project (/repo/.codex/config.toml): a project layer may only tighten the sandbox; set it in `$CODEX_HOME/config.toml` instead",
                "ignoring `linux_sandbox.landlock_layer` from project (/repo/.codex/config.toml): a project layer may only tighten the sandbox; set it in `$CODEX_HOME/config.toml` instead",
            ]
        );
    }

    #[test]
    fn user_layers_decide_and_a_project_layer_may_tighten() {
        let user = layer(
            LayerSource::User {
                file: PathBuf::from("/home/u/.codex/config.toml"),
                profile: None,
            },
            "[linux_sandbox]\nmax_processes = 0\nlandlock_layer = false\n",
        );
        let mut warnings = Vec::new();
        let settings = resolve(std::slice::from_ref(&user), false, &mut warnings);
        assert_eq!(settings.max_processes, None, "0 means no limit");
        assert!(!settings.landlock_layer);
        let project = layer(
            LayerSource::Project {
                dot_codex: PathBuf::from("/repo/.codex"),
            },
            "[linux_sandbox]\nmax_processes = 64\nlandlock_layer = true\nrequire_process_limit = true\n",
        );
        let settings = resolve(&[user, project], false, &mut warnings);
        assert_eq!(settings.max_processes, Some(64));
        assert!(settings.landlock_layer && settings.require_process_limit);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
