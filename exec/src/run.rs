//! `codex exec`: settings from the arguments and configuration, then one turn, then the exit
//! code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codex_config::{Config, LoaderOptions, SandboxMode, SandboxSelection};
use codex_core::{
    ReadGuard, RolloutMode, SandboxRunner, Session, SessionSettings, TurnOutcome, git_root, is_uuid,
};
use codex_login::{AuthEnvironment, AuthManager, AuthSettings};
use codex_model_client::{ClientOptions, ContentItem, ModelClient};

use crate::args::{ColorArg, ExecArgs, ExecCommand, LocalProviderArg};
use crate::human::{Header, HumanPrinter};
use crate::jsonl::JsonlMapper;
use crate::output;
use crate::prompt::resolve_prompt;

/// Options given before `exec` (`codex -c … exec`); they come first, so exec's own win.
#[derive(Debug, Clone, Default)]
pub struct RootOptions {
    pub raw_overrides: Vec<String>,
    pub profile: Option<String>,
    pub strict_config: bool,
}

/// Exit codes.
const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// A start-up failure: its message (printed as `ERROR: …` or as is) and exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: EXIT_FAILED,
        }
    }
}

const IMAGE_MAX_BYTES: u64 = 20 << 20;

/// Run `codex exec` and return the process exit code.
pub fn run_exec(args: ExecArgs, root: RootOptions) -> u8 {
    match run(args, root) {
        Ok(code) => code,
        Err(failure) => {
            output::error_line(&failure.message);
            failure.code
        }
    }
}

fn load(args: &ExecArgs, root: &RootOptions, cwd: &Path) -> Result<Config, Failure> {
    let options = &args.options;
    let mut raw = root.raw_overrides.clone();
    raw.extend(options.config.iter().cloned());
    for (names, value) in [(&options.enable, true), (&options.disable, false)] {
        for name in names {
            if !codex_config::is_known_feature(name) {
                return Err(Failure::new(format!("Unknown feature flag: {name}")));
            }
            raw.push(format!("features.{name}={value}"));
        }
    }
    let mode = if options.yolo {
        Some(SandboxMode::DangerFullAccess)
    } else if let Some(mode) = options.sandbox {
        Some(mode.mode())
    } else if options.full_auto {
        output::error_line(
            "warning: `--full-auto` is deprecated; use `--sandbox workspace-write` instead.",
        );
        Some(SandboxMode::WorkspaceWrite)
    } else {
        None
    };
    let codex_home = codex_config::find_codex_home()
        .map_err(|error| Failure::new(format!("Error finding codex home: {error}")))?;
    let mut loader = LoaderOptions::new(cwd.to_path_buf(), codex_home);
    loader.raw_overrides = raw;
    loader.profile = options.profile.clone().or_else(|| root.profile.clone());
    loader.strict = options.strict_config || root.strict_config;
    loader.sandbox = SandboxSelection {
        mode,
        // Added to the configured writable roots (upstream: `--add-dir` extends them).
        add_writable_roots: options
            .add_dir
            .iter()
            .map(|dir| codex_sandboxing::normalize(&cwd.join(dir)))
            .collect(),
        ..SandboxSelection::default()
    };
    codex_config::load_config(&loader).map_err(|error| {
        if error.carries_own_prefix() {
            Failure::new(error.to_string())
        } else {
            Failure::new(format!("Error loading config.toml:\n{error}"))
        }
    })
}

fn color_enabled(choice: ColorArg) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && std::io::stderr().is_terminal()
                && std::env::var("TERM").map_or(true, |term| term != "dumb")
        }
    }
}

fn run(args: ExecArgs, root: RootOptions) -> Result<u8, Failure> {
    let current = std::env::current_dir()
        .map_err(|error| Failure::new(format!("cannot read the current directory: {error}")))?;
    let cwd = match &args.options.cd {
        Some(dir) => {
            let dir = codex_sandboxing::normalize(&current.join(dir));
            if !dir.is_dir() {
                return Err(Failure::new(format!(
                    "`--cd {}` is not a directory",
                    dir.display()
                )));
            }
            dir
        }
        None => codex_sandboxing::normalize(&current),
    };
    // Which session, and which positional is the prompt.
    let (resume, prompt_argument) = match &args.command {
        Some(ExecCommand::Resume(resume)) => {
            // `--last` with one positional takes it as the prompt, unless it is a session id.
            if resume.last && resume.session_id.as_deref().is_some_and(is_uuid) {
                return Err(Failure {
                    message: "error: the argument '--last' cannot be used with '[SESSION_ID]'"
                        .into(),
                    code: EXIT_USAGE,
                });
            }
            if resume.last {
                let prompt = resume.prompt.clone().or_else(|| resume.session_id.clone());
                (Some((None, resume.all)), prompt)
            } else {
                match &resume.session_id {
                    Some(id) => (Some((Some(id.clone()), false)), resume.prompt.clone()),
                    None => {
                        return Err(Failure {
                            message: "error: `codex exec resume` needs a SESSION_ID or `--last`"
                                .into(),
                            code: EXIT_USAGE,
                        });
                    }
                }
            }
        }
        None => (None, args.prompt.clone()),
    };
    let config = load(&args, &root, &cwd)?;
    let options = &args.options;
    for warning in &config.warnings {
        output::error_line(&format!("warning: {warning}"));
    }
    if !options.skip_git_repo_check && !options.yolo && git_root(&cwd).is_none() {
        return Err(Failure::new(
            "Not inside a trusted directory and --skip-git-repo-check was not specified.",
        ));
    }
    if let Err(error) = codex_config::create_codex_home(&config.codex_home) {
        output::error_line(&format!(
            "warning: cannot create `{}`: {error}",
            config.codex_home.display()
        ));
    }
    let read_guard = ReadGuard::new(&config.sandbox_policy, &config.codex_home);
    let output_schema = match &options.output_schema {
        Some(path) => {
            let bytes = read_guard.read(path, &current, 4 << 20).map_err(|error| {
                Failure::new(format!(
                    "Failed to read output schema file {}: {error}",
                    path.display()
                ))
            })?;
            Some(
                serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|error| {
                    Failure::new(format!(
                        "Output schema file {} is not valid JSON: {error}",
                        path.display()
                    ))
                })?,
            )
        }
        None => None,
    };
    let saved = match resume {
        Some((Some(id), _)) => Some(
            codex_core::find_session(&config.codex_home, &id)
                .map_err(|error| Failure::new(error.to_string()))?,
        ),
        Some((None, all)) => Some(
            codex_core::find_last_session(&config.codex_home, (!all).then_some(cwd.as_path()))
                .map_err(|error| Failure::new(error.to_string()))?,
        ),
        None => None,
    };
    let prompt =
        resolve_prompt(prompt_argument.as_deref()).map_err(|error| Failure::new(error.0))?;
    for notice in &prompt.notices {
        output::error_line(notice);
    }
    let mut content = Vec::new();
    for image in &options.images {
        let bytes = read_guard
            .read(image, &current, IMAGE_MAX_BYTES)
            .map_err(|error| Failure::new(format!("cannot attach image: {error}")))?;
        let Some(image_url) = codex_core::image_data_url(&bytes) else {
            return Err(Failure::new(format!(
                "cannot attach image: `{}` is not a PNG, JPEG, GIF or WebP file",
                image.display()
            )));
        };
        content.push(ContentItem::InputImage {
            image_url,
            detail: None,
        });
    }
    content.push(ContentItem::InputText {
        text: prompt.text.clone(),
    });

    let session_id = saved
        .as_ref()
        .map_or_else(codex_core::new_session_id, |saved| saved.id.clone());
    let auth = Arc::new(AuthManager::new(AuthSettings::from_config(
        &config,
        AuthEnvironment::from_process(),
    )));
    let provider = if options.oss || options.local_provider.is_some() {
        match options.local_provider {
            Some(LocalProviderArg::Ollama) => Some("ollama".to_string()),
            Some(LocalProviderArg::Lmstudio) => Some("lmstudio".to_string()),
            None => match config.model.oss_provider {
                Some(provider) => Some(provider.id().to_string()),
                None => {
                    return Err(Failure::new(
                        "No default OSS provider configured. Use --local-provider=provider or set oss_provider to one of: lmstudio, ollama in config.toml",
                    ));
                }
            },
        }
    } else {
        None
    };
    let client = ModelClient::new(
        &config,
        auth,
        ClientOptions {
            session_id: session_id.clone(),
            originator: Some("codex_exec".into()),
            api_key_env: codex_login::ApiKeyEnv::Enabled,
            model: options.model.clone(),
            provider,
        },
    )
    .map_err(|error| Failure::new(format!("ERROR: {error}")))?;
    if let Some(local) = options
        .oss
        .then_some(())
        .or(options.local_provider.map(|_| ()))
        .and_then(|()| codex_config::OssProvider::parse(&client.provider().id))
    {
        codex_model_client::ensure_oss_ready(
            local,
            client.provider().base_url(),
            client.model(),
            &mut |event| {
                if let codex_model_client::PullEvent::Status(status) = event {
                    output::error_line(&crate::visible::visible(status));
                }
            },
            &mut |warning| {
                output::error_line(&format!("warning: {}", crate::visible::visible(&warning)))
            },
        )
        .map_err(|error| Failure::new(format!("OSS setup failed: {error}")))?;
    }
    let env_key: Vec<&str> = client.provider().env_key().into_iter().collect();
    let command_env = config
        .shell_environment_policy
        .create_env_without_secrets(std::env::vars_os(), &env_key);
    let codex_exe = std::env::current_exe()
        .map_err(|error| Failure::new(format!("cannot find the codex executable: {error}")))?;
    let runner = Arc::new(SandboxRunner::new(
        &config.sandbox_policy,
        codex_sandboxing::SandboxSettings::from_config(&config),
    ));
    let header = Header {
        version: env!("CARGO_PKG_VERSION").to_string(),
        workdir: cwd.display().to_string(),
        model: client.model().to_string(),
        provider: client.provider().id.clone(),
        sandbox: codex_utils_sandbox_summary::summarize(&config.sandbox_policy),
        reasoning_effort: config
            .model
            .reasoning_effort
            .map(|effort| effort.as_str().to_string()),
        session_id: session_id.clone(),
        prompt: prompt.text.clone(),
    };
    let model_known = client.model_family().known;
    let model_name = client.model().to_string();
    let settings = SessionSettings {
        cwd: cwd.clone(),
        codex_home: config.codex_home.clone(),
        policy: config.sandbox_policy.clone(),
        command_env,
        codex_exe,
        project_doc_max_bytes: project_doc_max_bytes(&config),
        output_schema,
        rollout: match saved {
            Some(saved) => RolloutMode::Resume {
                saved,
                record: !options.ephemeral,
            },
            None if options.ephemeral => RolloutMode::Ephemeral,
            None => RolloutMode::Create,
        },
        session_id,
        originator: "codex_exec".into(),
        cli_version: env!("CARGO_PKG_VERSION").into(),
    };
    // Where `-o` leads is fixed now, before any command of the model runs: a symbolic link it
    // plants on the way (`out -> /etc`) must not redirect the host's write at the end.
    let last_message_target = options
        .output_last_message
        .as_ref()
        .map(|path| LastMessageTarget::fix(&current.join(path)));
    let mut session = Session::start(settings, client, runner)
        .map_err(|error| Failure::new(error.to_string()))?;
    if let Err(error) = crate::signals::install(session.interrupt_handle()) {
        output::error_line(&format!("warning: cannot handle Ctrl-C: {error}"));
    }
    let fallback_warning = (!model_known).then(|| {
        format!("Model metadata for `{model_name}` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.")
    });
    let outcome = if options.json {
        let mut mapper = JsonlMapper::default();
        output::json_line(&mapper.thread_started(session.id()));
        if let Some(warning) = &fallback_warning {
            output::json_line(&mapper.warning(warning));
        }
        session.run_turn(content, &mut |event| {
            for line in mapper.map(&event) {
                output::json_line(&line);
            }
        })
    } else {
        let printer = HumanPrinter::new(color_enabled(options.color));
        printer.header(&header);
        if let Some(warning) = &fallback_warning {
            printer.line(&format!("warning: {warning}"));
        }
        let outcome = session.run_turn(content, &mut |event| printer.event(&event));
        if let TurnOutcome::Completed {
            last_agent_message: Some(message),
            ..
        } = &outcome
            && !std::io::stdout().is_terminal()
        {
            output::final_message(message);
        }
        outcome
    };
    if let Some(path) = &options.output_last_message {
        let message = match &outcome {
            TurnOutcome::Completed {
                last_agent_message: Some(message),
                ..
            } => message.as_str(),
            _ => "",
        };
        if message.is_empty() {
            output::error_line(&format!(
                "Warning: no last agent message; wrote empty content to {}",
                path.display()
            ));
        }
        let written = match &last_message_target {
            Some(target) => target.write(message),
            None => Ok(()),
        };
        if let Err(error) = written {
            output::error_line(&format!(
                "Failed to write last message file {}: {error}",
                path.display()
            ));
        }
    }
    Ok(match outcome {
        TurnOutcome::Completed { .. } => 0,
        TurnOutcome::Failed { .. } => EXIT_FAILED,
        TurnOutcome::Aborted {
            reason: codex_core::AbortReason::Interrupted,
            ..
        } => 130,
        TurnOutcome::Aborted { .. } => 143,
    })
}

fn project_doc_max_bytes(config: &Config) -> usize {
    config
        .merged
        .get("project_doc_max_bytes")
        .and_then(toml::Value::as_integer)
        .and_then(|value| usize::try_from(value).ok())
        .unwrap_or(codex_core::DEFAULT_PROJECT_DOC_MAX_BYTES)
}

/// The `-o` file, resolved before the turn: the directory it goes into as it really was then.
struct LastMessageTarget {
    path: PathBuf,
    /// The canonical parent directory at the start (`None`: it did not exist).
    parent_at_start: Option<PathBuf>,
}

impl LastMessageTarget {
    fn fix(path: &Path) -> LastMessageTarget {
        LastMessageTarget {
            path: path.to_path_buf(),
            parent_at_start: path.parent().and_then(|parent| parent.canonicalize().ok()),
        }
    }

    /// Write `message`, refusing when the directory now resolves elsewhere than at the start
    /// (or, if it was missing then, through a symbolic link).
    fn write(&self, message: &str) -> std::io::Result<()> {
        let refuse = |why: &str| {
            Err(std::io::Error::other(format!(
                "{why}; a command run during the turn may have planted a symbolic link, so nothing was written"
            )))
        };
        let (Some(parent), Some(name)) = (self.path.parent(), self.path.file_name()) else {
            return refuse("the path has no file name");
        };
        let parent_now = parent.canonicalize()?;
        match &self.parent_at_start {
            Some(start) if *start != parent_now => {
                return refuse(&format!(
                    "its directory resolved to `{}` at the start and to `{}` now",
                    start.display(),
                    parent_now.display()
                ));
            }
            None if codex_sandboxing::normalize(parent) != parent_now => {
                return refuse(&format!(
                    "its directory did not exist at the start and is now reached through a symbolic link (to `{}`)",
                    parent_now.display()
                ));
            }
            _ => {}
        }
        write_last_message(&parent_now.join(name), message)
    }
}

/// `-o`: never through a symbolic link, and atomically (a temporary file in the same directory,
/// renamed over the target), so a failure or a crash never leaves half a message; an existing
/// file keeps its permissions.
fn write_last_message(path: &Path, message: &str) -> std::io::Result<()> {
    let existing = match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            return Err(std::io::Error::other(
                "it is a symbolic link, which is never followed",
            ));
        }
        Ok(metadata) => Some(metadata.permissions()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let (Some(directory), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(std::io::ErrorKind::InvalidInput.into());
    };
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".codex-{}.tmp", std::process::id()));
    let temporary = directory.join(temporary_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        /// `FILE_FLAG_OPEN_REPARSE_POINT`: a symbolic link is opened itself, not followed.
        const OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        options.custom_flags(OPEN_REPARSE_POINT);
    }
    let mut file = options.open(&temporary)?;
    let written = file
        .write_all(message.as_bytes())
        .and_then(|()| match existing {
            Some(permissions) => file.set_permissions(permissions),
            None => Ok(()),
        })
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
