//! The sandbox section of `codex doctor`: what the machine offers (bubblewrap, user namespaces,
//! seccomp, Landlock; Linux), what each backend can enforce here (each backend plans the
//! built-in profiles and the configured one; a refusal is the planner's own reason), and a real
//! run of `true` under `:read-only` through the one sandbox entry point.

use std::ffi::OsString;
use std::time::Duration;

use codex_config::Config;
use codex_sandboxing::{CommandRequest, Ending, SandboxBackend, SandboxSettings, StdioPolicy};
use serde_json::{Value, json};

use crate::doctor_report::{Check, Report, Section, Status, one_line};

/// The resolved configurations the sandbox checks plan with.
pub struct SandboxInputs<'a> {
    /// The configuration as loaded (its backend, `[linux_sandbox]` and policy).
    pub configured: &'a Config,
    /// The same with `default_permissions = ":read-only"`.
    pub read_only: &'a Config,
    /// The same with `default_permissions = ":workspace"` (`None` when it does not load).
    pub workspace: Option<&'a Config>,
}

const SECTION: Section = Section::Sandbox;
/// A generous bound for `true`; only a broken machine comes near it.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

fn backend_name(backend: SandboxBackend) -> &'static str {
    match backend {
        SandboxBackend::Bubblewrap => "bubblewrap",
        SandboxBackend::Landlock => "landlock",
        SandboxBackend::Seatbelt => "seatbelt",
    }
}

/// The backends this OS has, the selected one first.
fn backends(selected: SandboxBackend) -> Vec<SandboxBackend> {
    let mut all = if cfg!(target_os = "linux") {
        vec![SandboxBackend::Bubblewrap, SandboxBackend::Landlock]
    } else {
        vec![SandboxBackend::Seatbelt]
    };
    all.sort_by_key(|backend| *backend != selected);
    all
}

fn request<'a>(
    config: &'a Config,
    settings: &'a SandboxSettings,
    env: &[(OsString, OsString)],
    stdio: StdioPolicy,
) -> CommandRequest<'a> {
    CommandRequest {
        policy: &config.sandbox_policy,
        command: vec![OsString::from("true")],
        cwd: config.cwd.clone(),
        env: env.to_vec(),
        stdio,
        timeout: Some(RUN_TIMEOUT),
        settings,
    }
}

/// Every sandbox check; `inputs` is `None` when the configuration did not load (then only the
/// machine is probed).
pub fn checks(report: &mut Report, inputs: Option<&SandboxInputs<'_>>) {
    let settings = inputs.map(|inputs| SandboxSettings::from_config(inputs.configured));
    #[cfg(target_os = "linux")]
    let machine = crate::doctor_linux::machine_checks(report, inputs, settings.as_ref());
    let mut run = None;
    if let (Some(inputs), Some(settings)) = (inputs, &settings) {
        let env = inputs
            .configured
            .shell_environment_policy
            .create_env(std::env::vars_os());
        backend_checks(report, inputs, settings, &env);
        run = Some(run_check(report, inputs, settings, &env));
    }
    #[cfg(target_os = "linux")]
    crate::doctor_linux::user_namespace_check(report, &machine, run.as_ref());
    #[cfg(not(target_os = "linux"))]
    let _ = run;
}

/// Each backend plans `:read-only`, `:workspace` and the configured policy (when different).
fn backend_checks(
    report: &mut Report,
    inputs: &SandboxInputs<'_>,
    settings: &SandboxSettings,
    env: &[(OsString, OsString)],
) {
    let configured = inputs.configured;
    // (name in the JSON, name in the text, configuration)
    let mut policies: Vec<(String, String, &Config)> = vec![(
        ":read-only".to_string(),
        "`:read-only`".to_string(),
        inputs.read_only,
    )];
    if let Some(workspace) = inputs.workspace {
        policies.push((
            ":workspace".to_string(),
            "`:workspace`".to_string(),
            workspace,
        ));
    }
    if !policies
        .iter()
        .any(|(_, _, config)| same_rules(&config.sandbox_policy, &configured.sandbox_policy))
    {
        let name = configured.sandbox_policy.profile.clone();
        let text = format!("`{name}` (configured)");
        policies.push((name, text, configured));
    }
    let mut entries = Vec::new();
    for backend in backends(settings.backend) {
        let selected = backend == settings.backend;
        let mut backend_settings = settings.clone();
        backend_settings.backend = backend;
        let mut runs = Vec::new();
        let mut refusals = Vec::new();
        let mut enforcement = None;
        let mut profiles = Vec::new();
        for (name, text, config) in &policies {
            let plan = codex_sandboxing::plan(&request(
                config,
                &backend_settings,
                env,
                StdioPolicy::Capture { max_bytes: 0 },
            ));
            match plan {
                Ok(plan) => {
                    enforcement.get_or_insert_with(|| {
                        // `describe()` starts with the backend's name, which the line has.
                        let described = plan.enforcement.describe();
                        let prefix = format!("{}, ", plan.enforcement.backend);
                        described
                            .strip_prefix(&prefix)
                            .map(str::to_string)
                            .unwrap_or(described)
                    });
                    runs.push(text.clone());
                    profiles.push(json!({"profile": name, "runs": true, "error": null}));
                }
                Err(error) => {
                    refusals.push(format!("refuses {text}: {error}"));
                    profiles
                        .push(json!({"profile": name, "runs": false, "error": error.to_string()}));
                }
            }
        }
        let name = backend_name(backend);
        let runs_read_only = profiles
            .first()
            .is_some_and(|profile| profile["runs"] == json!(true));
        let status = match (runs_read_only, selected) {
            (true, _) => Status::Ok,
            (false, true) => Status::Fail,
            (false, false) => Status::Warn,
        };
        let mut summary = if selected {
            "selected".to_string()
        } else {
            "not selected".to_string()
        };
        if let Some(enforcement) = &enforcement {
            summary.push_str(&format!("; enforces {enforcement}"));
        }
        if !runs.is_empty() {
            summary.push_str(&format!("; runs {}", runs.join(", ")));
        }
        let hint = (status == Status::Fail).then(|| backend_hint(backend));
        let mut check = Check::new(
            SECTION,
            format!("backend_{name}"),
            format!("{name} backend"),
            status,
            summary,
        )
        .hint(hint);
        for refusal in refusals {
            check = check.note(refusal);
        }
        report.push(check);
        entries.push(json!({
            "name": name,
            "selected": selected,
            "enforcement": enforcement,
            "profiles": profiles,
        }));
    }
    report.set(SECTION, "backends", Value::Array(entries));
}

/// The same rules, whatever the profiles are called.
fn same_rules(
    left: &codex_sandboxing::SandboxPolicy,
    right: &codex_sandboxing::SandboxPolicy,
) -> bool {
    let mut renamed = right.clone();
    renamed.profile.clone_from(&left.profile);
    *left == renamed
}

fn backend_hint(backend: SandboxBackend) -> String {
    match backend {
        SandboxBackend::Bubblewrap => "fix the bubblewrap and user namespace checks above, or try the Landlock backend (`-c use_legacy_landlock=true`) if this report shows that it runs the profiles you need".to_string(),
        SandboxBackend::Landlock => "use the default bubblewrap backend (drop `use_legacy_landlock`), or boot a kernel with Landlock enabled".to_string(),
        SandboxBackend::Seatbelt => "Seatbelt needs `/usr/bin/sandbox-exec` (macOS)".to_string(),
    }
}

/// How the real run of `true` ended.
pub enum RunResult {
    /// `true` exited 0.
    Ran,
    /// bubblewrap started but could not set the sandbox up (namespaces, mounts).
    SetupFailed,
    /// It could not be planned or ran and failed otherwise.
    Failed,
}

/// Run `true` under `:read-only` with the selected backend, capturing its output.
fn run_check(
    report: &mut Report,
    inputs: &SandboxInputs<'_>,
    settings: &SandboxSettings,
    env: &[(OsString, OsString)],
) -> RunResult {
    // A real run hides `$CODEX_HOME`, which must exist to be hidden (as `codex sandbox`).
    let _ = codex_config::create_codex_home(&inputs.read_only.codex_home);
    let request = request(
        inputs.read_only,
        settings,
        env,
        StdioPolicy::Capture { max_bytes: 4096 },
    );
    let backend = backend_name(settings.backend);
    let outcome = codex_sandboxing::run(&request);
    report.can_run = matches!(&outcome, Ok(outcome) if outcome.ending == Ending::Exited(0));
    let (check, result, json) = match outcome {
        Ok(outcome) if outcome.ending == Ending::Exited(0) => (
            Check::new(
                SECTION,
                "run",
                "sandboxed run",
                Status::Ok,
                format!(
                    "`true` exited 0 under `:read-only` ({})",
                    outcome.enforcement.describe()
                ),
            ),
            RunResult::Ran,
            json!({"exit_code": 0, "error": null}),
        ),
        Ok(outcome) => {
            let stderr = one_line(&outcome.stderr.text(), 300);
            let message = match outcome.ending {
                Ending::TimedOut => {
                    format!("`true` did not finish within {}s", RUN_TIMEOUT.as_secs())
                }
                _ => format!("`true` exited {} under `:read-only`", outcome.exit_code),
            };
            let message = if stderr.is_empty() {
                message
            } else {
                format!("{message}: {stderr}")
            };
            (
                Check::new(
                    SECTION,
                    "run",
                    "sandboxed run",
                    Status::Fail,
                    message.clone(),
                )
                .hint(Some(
                    "run `codex sandbox -- true` to see the sandbox's own messages".to_string(),
                )),
                RunResult::Failed,
                json!({"exit_code": outcome.exit_code, "error": message}),
            )
        }
        Err(error) => {
            let message = error.to_string();
            let result = if setup_failed(&error) {
                RunResult::SetupFailed
            } else {
                RunResult::Failed
            };
            let hint = error.hint().or_else(|| {
                Some("run `codex sandbox -- true` to see the sandbox's own messages".to_string())
            });
            (
                Check::new(
                    SECTION,
                    "run",
                    "sandboxed run",
                    Status::Fail,
                    format!("`true` cannot run under `:read-only`: {message}"),
                )
                .hint(hint),
                result,
                json!({"exit_code": null, "error": message}),
            )
        }
    };
    report.push(check);
    let mut json = json;
    if let Value::Object(map) = &mut json {
        map.insert("command".into(), json!("true"));
        map.insert("profile".into(), json!(":read-only"));
        map.insert("backend".into(), json!(backend));
        map.insert("ok".into(), json!(report.can_run));
    }
    report.set(SECTION, "run", json);
    result
}

/// bubblewrap started but could not set the sandbox up (namespaces, mounts).
fn setup_failed(error: &codex_sandboxing::RunCommandError) -> bool {
    #[cfg(target_os = "linux")]
    {
        matches!(
            error,
            codex_sandboxing::RunCommandError::LinuxRun(
                codex_linux_sandbox::RunSandboxError::SetupFailed { .. }
            )
        )
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = error;
        false
    }
}
