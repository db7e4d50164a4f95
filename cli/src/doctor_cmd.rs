//! `codex doctor [--json]`: can a sandboxed command run here, and what would codex use? The
//! sandbox (see `doctor_sandbox`), the configuration layers and the sign-in, one line per check.
//! Exit 0 when `true` ran under the `:read-only` sandbox, 1 otherwise. The report goes to stdout
//! (it is the command's output); nothing secret is ever printed: the sign-in method only, URLs
//! without user information or query.

use std::process::ExitCode;

use codex_config::{Config, LayerSource};
use codex_login::{
    ApiKeyEnv, AuthEnvironment, AuthManager, AuthSettings, CodexAuth, CredentialLocation,
    CredentialSource, CredentialsStore,
};
use serde_json::{Value, json};

use crate::doctor_report::{Check, Report, Section, Status, displayable_url, one_line};
use crate::doctor_sandbox::SandboxInputs;
use crate::options::SharedOptions;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub shared: SharedOptions,

    /// Print one JSON object (shape in the README) instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// The configuration as loaded, and the same with the built-in profiles the checks plan.
struct Loaded {
    configured: Config,
    read_only: Result<Config, String>,
    workspace: Option<Config>,
}

fn load(shared: &SharedOptions) -> anyhow::Result<Loaded> {
    let options = shared.loader_options(std::env::current_dir()?)?;
    let configured = codex_config::load_config(&options)?;
    let with_profile = |name: &str| {
        let mut options = options.clone();
        options.sandbox.permission_profile = Some(name.to_string());
        codex_config::load_config(&options)
    };
    Ok(Loaded {
        read_only: with_profile(":read-only").map_err(|error| error.to_string()),
        workspace: with_profile(":workspace").ok(),
        configured,
    })
}

pub fn run(root: SharedOptions, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let shared = root.merge(args.shared);
    let report = collect(&shared);
    if args.json {
        crate::output::line(report.to_json())?;
    } else {
        crate::output::write(&report.render())?;
    }
    Ok(ExitCode::from(if report.can_run { 0 } else { 1 }))
}

/// Every key of the `--json` sections, `null` (or empty) until a check fills it: the shape
/// stays the same when a check cannot run.
fn seed(report: &mut Report) {
    let keys: [(Section, &[&str]); 3] = [
        (
            Section::Sandbox,
            &[
                "bubblewrap",
                "user_namespaces",
                "seccomp",
                "landlock",
                "run",
            ],
        ),
        (Section::Configuration, &["loaded", "error", "requirements"]),
        (
            Section::SignIn,
            &[
                "logged_in",
                "method",
                "source",
                "error",
                "store",
                "save_to",
                "model_provider",
            ],
        ),
    ];
    for (section, names) in keys {
        for name in names {
            report.set(section, name, Value::Null);
        }
    }
    report.set(Section::Sandbox, "backends", json!([]));
    report.set(Section::Configuration, "layers", json!([]));
    report.set(Section::Configuration, "warnings", json!([]));
}

fn collect(shared: &SharedOptions) -> Report {
    let mut report = Report::default();
    seed(&mut report);
    let loaded = load(shared);
    let loaded = match loaded {
        Ok(loaded) => Some(loaded),
        Err(error) => {
            config_failure(&mut report, &error);
            None
        }
    };
    let inputs = loaded.as_ref().and_then(|loaded| match &loaded.read_only {
        Ok(read_only) => Some(SandboxInputs {
            configured: &loaded.configured,
            read_only,
            workspace: loaded.workspace.as_ref(),
        }),
        Err(error) => {
            report.push(
                Check::new(
                    Section::Sandbox,
                    "read_only_profile",
                    "read-only profile",
                    Status::Fail,
                    format!("`:read-only` cannot be resolved here: {error}"),
                )
                .hint(Some(
                    "check `/etc/codex/requirements.toml` and your permission settings".into(),
                )),
            );
            None
        }
    });
    crate::doctor_sandbox::checks(&mut report, inputs.as_ref());
    if let Some(loaded) = &loaded {
        config_checks(&mut report, &loaded.configured, shared);
        sign_in_checks(&mut report, &loaded.configured);
    }
    report
}

fn config_failure(report: &mut Report, error: &anyhow::Error) {
    let text = error.to_string();
    let mut lines = text.lines();
    let mut check = Check::new(
        Section::Configuration,
        "config",
        "configuration",
        Status::Fail,
        format!("cannot be loaded: {}", lines.next().unwrap_or_default()),
    )
    .hint(Some(
        "fix the file named above; `codex config show` prints the same error".into(),
    ));
    for line in lines {
        check = check.note(line.to_string());
    }
    report.push(check);
    report.set(Section::Configuration, "loaded", json!(false));
    report.set(Section::Configuration, "error", json!(text));
}

/// (id, label) of a layer's line.
fn layer_names(source: &LayerSource) -> Option<(&'static str, &'static str)> {
    Some(match source {
        LayerSource::Defaults => return None,
        LayerSource::System { .. } => ("system_config", "system config"),
        LayerSource::User { profile: None, .. } => ("user_config", "user config"),
        LayerSource::User { .. } => ("profile_config", "profile config"),
        LayerSource::Project { .. } => ("project_config", "project config"),
        LayerSource::SessionFlags => ("session_flags", "-c overrides"),
        LayerSource::LegacyManagedConfig { .. } => ("managed_config", "managed config"),
    })
}

fn layer_file(source: &LayerSource) -> Option<std::path::PathBuf> {
    match source {
        LayerSource::System { file }
        | LayerSource::User { file, .. }
        | LayerSource::LegacyManagedConfig { file } => Some(file.clone()),
        LayerSource::Project { dot_codex } => Some(dot_codex.join("config.toml")),
        LayerSource::Defaults | LayerSource::SessionFlags => None,
    }
}

fn config_checks(report: &mut Report, config: &Config, shared: &SharedOptions) {
    const SECTION: Section = Section::Configuration;
    let overrides_given = shared.raw_overrides().is_ok_and(|raw| !raw.is_empty());
    let mut layers = Vec::new();
    for layer in &config.layers {
        let file = layer_file(&layer.source);
        let exists = file.as_ref().map(|file| file.is_file());
        let mut value = crate::config_json::layer_json(
            &layer.source,
            &layer.display_name,
            layer.disabled_reason.as_ref(),
        );
        if let Value::Object(map) = &mut value {
            map.insert("exists".into(), json!(exists));
        }
        layers.push(value);
        let Some((id, label)) = layer_names(&layer.source) else {
            continue;
        };
        let check = match (&file, exists, &layer.disabled_reason) {
            (None, _, _) if overrides_given => {
                Check::new(SECTION, id, label, Status::Ok, "given on the command line")
            }
            (None, _, _) => continue,
            (Some(file), _, Some(reason)) => Check::new(
                SECTION,
                id,
                label,
                Status::Warn,
                format!("`{}` is not loaded: {reason}", file.display()),
            ),
            (Some(file), Some(true), None) => Check::new(
                SECTION,
                id,
                label,
                Status::Ok,
                format!("`{}`", file.display()),
            ),
            (Some(file), _, None) => Check::new(
                SECTION,
                id,
                label,
                Status::Ok,
                format!("absent (`{}`)", file.display()),
            ),
        };
        report.push(check);
    }
    let requirements = codex_config::system_config_dir().join("requirements.toml");
    let exists = requirements.is_file();
    report.push(Check::new(
        SECTION,
        "requirements",
        "requirements",
        Status::Ok,
        if exists {
            format!("`{}`", requirements.display())
        } else {
            format!("absent (`{}`)", requirements.display())
        },
    ));
    for warning in &config.warnings {
        report.push(Check::new(
            SECTION,
            "warning",
            "warning",
            Status::Warn,
            one_line(warning, 400),
        ));
    }
    report.set(SECTION, "loaded", json!(true));
    report.set(SECTION, "error", Value::Null);
    report.set(SECTION, "layers", Value::Array(layers));
    report.set(
        SECTION,
        "requirements",
        json!({"path": requirements.to_string_lossy(), "exists": exists}),
    );
    report.set(SECTION, "warnings", json!(config.warnings));
}

fn persistence(location: &CredentialLocation) -> &'static str {
    if location.persists_across_reboots() {
        "persists across reboots"
    } else {
        "lost at reboot"
    }
}

fn sign_in_checks(report: &mut Report, config: &Config) {
    const SECTION: Section = Section::SignIn;
    let manager = AuthManager::new(AuthSettings::from_config(
        config,
        AuthEnvironment::from_process(),
    ));
    let mode = manager.settings().store_mode;
    let resolved = manager.resolve(ApiKeyEnv::Enabled);
    let stored = manager.store().locate();
    let destination = manager.store().destination();
    let mode_name = crate::login_status::mode_name(mode);
    let store_check = match (&stored, &destination) {
        (Ok(Some(location)), _) => Some((
            location,
            format!(
                "{mode_name}: held in {location} ({})",
                persistence(location)
            ),
        )),
        (Ok(None), Ok(location)) => Some((
            location,
            format!(
                "{mode_name}: a sign-in would be kept in {location} ({})",
                persistence(location)
            ),
        )),
        _ => None,
    };
    report.push(match store_check {
        Some((location, summary)) => {
            let weak = !location.persists_across_reboots() && mode != CredentialsStore::Ephemeral;
            let mut check = Check::new(
                SECTION,
                "credential_store",
                "credential store",
                if weak { Status::Warn } else { Status::Ok },
                summary,
            );
            if let CredentialLocation::Keyring(codex_login::KeyringLocation::KernelUserKeyring {
                secret_service: Some(reason),
            }) = location
            {
                check = check.note(format!("Secret Service not used: {reason}"));
            }
            check.hint(weak.then(|| {
                "run a Secret Service (e.g. GNOME Keyring) on the session bus, or set `cli_auth_credentials_store = \"file\"`".to_string()
            }))
        }
        None => {
            let error = stored
                .as_ref()
                .err()
                .map(ToString::to_string)
                .or_else(|| destination.as_ref().err().map(ToString::to_string))
                .unwrap_or_default();
            Check::new(
                SECTION,
                "credential_store",
                "credential store",
                Status::Warn,
                format!("{mode_name}: {error}"),
            )
            .hint(Some(
                "set `cli_auth_credentials_store = \"file\"` to keep credentials in `$CODEX_HOME/auth.json`".into(),
            ))
        }
    });
    let auth = resolved.as_ref().ok().and_then(Option::as_ref);
    let (check, method, source, error) = match &resolved {
        Ok(Some(auth)) => {
            let source = match auth.source() {
                CredentialSource::Environment => "environment",
                CredentialSource::Store => "store",
            };
            let from = match auth.source() {
                CredentialSource::Environment => "from the environment",
                CredentialSource::Store => "from the credential store",
            };
            (
                Check::new(
                    SECTION,
                    "signed_in",
                    "signed in",
                    Status::Ok,
                    format!("yes: {} ({from})", method_text(auth)),
                ),
                json!(auth.kind_name()),
                json!(source),
                Value::Null,
            )
        }
        Ok(None) => (
            Check::new(SECTION, "signed_in", "signed in", Status::Warn, "no").hint(Some(
                "sign in with `codex login`, or `printenv OPENAI_API_KEY | codex login --with-api-key`".into(),
            )),
            Value::Null,
            Value::Null,
            Value::Null,
        ),
        Err(error) => (
            Check::new(
                SECTION,
                "signed_in",
                "signed in",
                Status::Warn,
                format!("cannot tell: {error}"),
            )
            .hint(Some("`codex login status` shows the same error".into())),
            Value::Null,
            Value::Null,
            json!(error.to_string()),
        ),
    };
    report.push(check);
    report.set(SECTION, "logged_in", json!(auth.is_some()));
    report.set(SECTION, "method", method);
    report.set(SECTION, "source", source);
    report.set(SECTION, "error", error);
    report.set(
        SECTION,
        "store",
        crate::login_status::location_json(mode, stored.as_ref().ok().and_then(Option::as_ref)),
    );
    report.set(
        SECTION,
        "save_to",
        crate::login_status::location_json(mode, destination.as_ref().ok()),
    );
    provider_check(report, config, auth);
}

/// The method in words (never the credential).
fn method_text(auth: &CodexAuth) -> &'static str {
    match auth.kind_name() {
        "api_key" => "an API key",
        "chatgpt" => "ChatGPT",
        "access_token" => "an access token",
        "personal_access_token" => "a personal access token",
        "bedrock_api_key" => "an Amazon Bedrock API key",
        "bedrock_access_keys" => "Amazon Bedrock AWS access keys",
        _ => "a credential",
    }
}

fn provider_check(report: &mut Report, config: &Config, auth: Option<&CodexAuth>) {
    const SECTION: Section = Section::SignIn;
    let environment = codex_model_client::ProviderEnvironment::from_process();
    match codex_model_client::resolve_provider(&config.model, None, &environment) {
        Ok(provider) => {
            let url = displayable_url(&provider.responses_url_for(auth));
            report.push(Check::new(
                SECTION,
                "model_provider",
                "model provider",
                Status::Ok,
                format!("`{}` ({}): {url}", provider.id, provider.name),
            ));
            report.set(
                SECTION,
                "model_provider",
                json!({"id": provider.id, "name": provider.name, "url": url, "error": null}),
            );
        }
        Err(error) => {
            report.push(Check::new(
                SECTION,
                "model_provider",
                "model provider",
                Status::Warn,
                error.to_string(),
            ));
            report.set(
                SECTION,
                "model_provider",
                json!({"id": null, "name": null, "url": null, "error": error.to_string()}),
            );
        }
    }
}
