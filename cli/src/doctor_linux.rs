//! Linux machine checks of `codex doctor`: bubblewrap (which copy and why it is trusted, or why
//! none is used), user namespaces, seccomp and Landlock, from `codex-linux-sandbox`'s own
//! discovery and probes.

use codex_linux_sandbox::{BubblewrapTrust, UserNamespaceReport};
use codex_sandboxing::{SandboxBackend, SandboxSettings};
use serde_json::{Value, json};

use crate::doctor_report::{Check, Report, Section, Status};
use crate::doctor_sandbox::{RunResult, SandboxInputs};

const SECTION: Section = Section::Sandbox;

/// What the user-namespace check needs after the run.
pub struct Machine {
    userns: UserNamespaceReport,
    /// Where its line goes (after bubblewrap).
    userns_index: usize,
    /// The bubblewrap that would run is setuid root (namespaces need no unprivileged support).
    setuid_bwrap: bool,
    /// Bubblewrap is the selected backend.
    bubblewrap_selected: bool,
}

fn trust_text(trust: &BubblewrapTrust) -> String {
    match trust {
        BubblewrapTrust::Configured => "named by `linux_sandbox.bwrap_path`".to_string(),
        BubblewrapTrust::SystemLocation => {
            "the system location, root-owned and not writable by others".to_string()
        }
        BubblewrapTrust::RootOwnedPathEntry(entry) => format!(
            "found on PATH in `{}`, root-owned and not writable by others",
            entry.display()
        ),
    }
}

fn trust_json(trust: &BubblewrapTrust) -> (&'static str, Value) {
    match trust {
        BubblewrapTrust::Configured => ("configured", Value::Null),
        BubblewrapTrust::SystemLocation => ("system_location", Value::Null),
        BubblewrapTrust::RootOwnedPathEntry(entry) => {
            ("root_owned_path_entry", json!(entry.to_string_lossy()))
        }
    }
}

/// Push the bubblewrap, seccomp and Landlock checks (the user-namespace line is added by
/// [`user_namespace_check`] once the run has shown whether they work).
pub fn machine_checks(
    report: &mut Report,
    inputs: Option<&SandboxInputs<'_>>,
    settings: Option<&SandboxSettings>,
) -> Machine {
    let bubblewrap_selected =
        settings.is_none_or(|settings| settings.backend == SandboxBackend::Bubblewrap);
    let mut setuid_bwrap = false;
    if let (Some(inputs), Some(settings)) = (inputs, settings) {
        let discovery = codex_linux_sandbox::discover_bubblewrap(
            settings.bwrap_path.as_deref(),
            &inputs.read_only.sandbox_policy,
            &inputs.read_only.cwd,
        );
        let refused: Vec<Value> = discovery
            .refused
            .iter()
            .map(
                |refused| json!({"path": refused.path.to_string_lossy(), "reason": refused.reason}),
            )
            .collect();
        let mut check = match &discovery.result {
            Ok(found) => {
                setuid_bwrap = found.setuid;
                let version = found.version.as_deref().unwrap_or("version unknown");
                let (trust, entry) = trust_json(&found.trust);
                report.set(
                    SECTION,
                    "bubblewrap",
                    json!({
                        "path": found.path.to_string_lossy(),
                        "trusted_because": trust,
                        "path_entry": entry,
                        "version": found.version,
                        "setuid": found.setuid,
                        "disable_userns": found.disable_userns,
                        "refused": refused,
                        "error": null,
                    }),
                );
                let mut summary = format!(
                    "`{}` ({version}); trusted: {}",
                    found.path.display(),
                    trust_text(&found.trust)
                );
                if !found.disable_userns {
                    summary
                        .push_str("; no `--disable-userns` (nested user namespaces stay possible)");
                }
                let status = if found.disable_userns {
                    Status::Ok
                } else {
                    Status::Warn
                };
                Check::new(SECTION, "bubblewrap", "bubblewrap", status, summary).hint(
                    (!found.disable_userns)
                        .then(|| "install bubblewrap 0.8.0 or newer".to_string()),
                )
            }
            Err(error) => {
                report.set(
                    SECTION,
                    "bubblewrap",
                    json!({
                        "path": null, "trusted_because": null, "path_entry": null,
                        "version": null, "setuid": null, "disable_userns": null,
                        "refused": refused, "error": error.to_string(),
                    }),
                );
                let status = if bubblewrap_selected {
                    Status::Fail
                } else {
                    Status::Warn
                };
                Check::new(
                    SECTION,
                    "bubblewrap",
                    "bubblewrap",
                    status,
                    error.to_string(),
                )
                .hint(error.hint())
            }
        };
        for refused in &discovery.refused {
            check = check.note(format!(
                "ignored `{}`: {}",
                refused.path.display(),
                refused.reason
            ));
        }
        report.push(check);
    }
    let userns_index = report.checks.len();
    let seccomp = codex_linux_sandbox::seccomp_available();
    report.set(SECTION, "seccomp", json!({"available": seccomp}));
    report.push(if seccomp {
        Check::new(SECTION, "seccomp", "seccomp", Status::Ok, "filters available")
    } else {
        Check::new(
            SECTION,
            "seccomp",
            "seccomp",
            Status::Fail,
            "the kernel does not accept seccomp filters",
        )
        .hint(Some(
            "boot a kernel built with `CONFIG_SECCOMP_FILTER`, or run outside a container that blocks `seccomp()`".to_string(),
        ))
    });
    let abi = codex_linux_sandbox::landlock_abi();
    let landlock_layer = settings.is_none_or(|settings| settings.landlock_layer);
    report.set(
        SECTION,
        "landlock",
        json!({"abi": (abi >= 1).then_some(abi), "layer_enabled": landlock_layer}),
    );
    report.push(if abi >= 1 {
        let layer = if landlock_layer {
            "applied inside bubblewrap as a second layer"
        } else {
            "not applied inside bubblewrap (`linux_sandbox.landlock_layer = false`)"
        };
        Check::new(SECTION, "landlock", "Landlock", Status::Ok, format!("ABI {abi}; {layer}"))
    } else {
        let status = if bubblewrap_selected && landlock_layer {
            Status::Fail
        } else {
            Status::Warn
        };
        Check::new(
            SECTION,
            "landlock",
            "Landlock",
            status,
            "unavailable: the kernel does not support Landlock or it is disabled",
        )
        .hint(Some(
            "boot a kernel with Landlock enabled (`lsm=landlock,…`), or run bubblewrap alone with `-c linux_sandbox.landlock_layer=false`".to_string(),
        ))
    });
    Machine {
        userns: codex_linux_sandbox::user_namespaces(),
        userns_index,
        setuid_bwrap,
        bubblewrap_selected,
    }
}

/// Whether user namespaces work: the sysctls, and what the bubblewrap run showed.
pub fn user_namespace_check(report: &mut Report, machine: &Machine, run: Option<&RunResult>) {
    let userns = &machine.userns;
    let values = [
        ("user.max_user_namespaces", userns.max_user_namespaces),
        (
            "kernel.unprivileged_userns_clone",
            userns.unprivileged_userns_clone,
        ),
        (
            "kernel.apparmor_restrict_unprivileged_userns",
            userns.apparmor_restrict_unprivileged_userns,
        ),
    ];
    let settings: Vec<String> = values
        .iter()
        .filter_map(|(name, value)| value.map(|value| format!("{name} = {value}")))
        .collect();
    let who = if userns.privileged {
        "running as root"
    } else {
        "running unprivileged"
    };
    let ran_bubblewrap = machine.bubblewrap_selected && matches!(run, Some(RunResult::Ran));
    let (status, verdict, available, hint) = if machine.setuid_bwrap {
        (
            Status::Ok,
            "not needed: bubblewrap is setuid root".to_string(),
            None,
            None,
        )
    } else if let Some(blocker) = &userns.blocker {
        (
            Status::Fail,
            format!("blocked: {blocker}"),
            Some(false),
            Some(codex_linux_sandbox::USER_NAMESPACE_HINT.to_string()),
        )
    } else if ran_bubblewrap {
        (
            Status::Ok,
            "available (bubblewrap created them)".to_string(),
            Some(true),
            None,
        )
    } else if let (Some(RunResult::SetupFailed), Some(blocker)) = (run, &userns.possible_blocker) {
        (
            Status::Fail,
            format!("blocked: {blocker}"),
            Some(false),
            Some(codex_linux_sandbox::USER_NAMESPACE_HINT.to_string()),
        )
    } else if let Some(blocker) = &userns.possible_blocker {
        (
            Status::Warn,
            format!("may be blocked: {blocker}"),
            None,
            Some(codex_linux_sandbox::USER_NAMESPACE_HINT.to_string()),
        )
    } else {
        (Status::Ok, "no setting blocks them".to_string(), None, None)
    };
    let mut summary = format!("{verdict}; {who}");
    if !settings.is_empty() {
        summary.push_str(&format!(" ({})", settings.join(", ")));
    }
    report.set(
        SECTION,
        "user_namespaces",
        json!({
            "available": available,
            "privileged": userns.privileged,
            "blocker": userns.blocker,
            "possible_blocker": userns.possible_blocker,
            "max_user_namespaces": userns.max_user_namespaces,
            "unprivileged_userns_clone": userns.unprivileged_userns_clone,
            "apparmor_restrict_unprivileged_userns": userns.apparmor_restrict_unprivileged_userns,
        }),
    );
    let check = Check::new(
        SECTION,
        "user_namespaces",
        "user namespaces",
        status,
        summary,
    )
    .hint(hint);
    let index = machine.userns_index.min(report.checks.len());
    report.checks.insert(index, check);
}
