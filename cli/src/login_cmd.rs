//! `codex login …` and `codex logout`: clap types, settings from configuration, output. The
//! flows live in `codex-login`. Every message goes to stderr; the exit code is 0 or 1.
//!
//! Test hooks (not upstream): `CODEX_LOGIN_SERVER_PORT` / `CODEX_LOGIN_SERVER_FALLBACK_PORT`
//! replace the browser-login ports 1455 / 1457, and the hidden `codex login refresh` refreshes
//! stored ChatGPT tokens when they are due (what a request would do).

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use codex_login::{
    AuthEnvironment, AuthManager, AuthSettings, LoginError, LoginMethod, PolicyViolation,
    RefreshOutcome, Secret,
};

use crate::options::SharedOptions;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoginArgs {
    #[command(flatten)]
    pub shared: SharedOptions,

    #[command(subcommand)]
    pub action: Option<LoginSubcommand>,

    /// Read the API key from stdin (e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`)
    #[arg(long = "with-api-key")]
    pub with_api_key: bool,

    /// Read the access token from stdin (e.g. `printenv CODEX_ACCESS_TOKEN | codex login --with-access-token`)
    #[arg(long = "with-access-token")]
    pub with_access_token: bool,

    /// Sign in with a device code (for remote or headless machines).
    #[arg(long = "device-auth")]
    pub device_auth: bool,

    /// OAuth issuer base URL (browser and device-code login).
    #[arg(long = "experimental_issuer", value_name = "URL", hide = true)]
    pub issuer: Option<String>,

    /// OAuth client id (browser and device-code login).
    #[arg(long = "experimental_client-id", value_name = "ID", hide = true)]
    pub client_id: Option<String>,

    /// Removed: pipe the key to `--with-api-key` instead.
    #[arg(long = "api-key", value_name = "API_KEY", num_args = 0..=1, default_missing_value = "", hide = true)]
    pub api_key: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum LoginSubcommand {
    /// Show login status.
    Status(StatusArgs),
    /// Refresh stored ChatGPT tokens if they are due (test hook).
    #[command(hide = true)]
    Refresh(RefreshArgs),
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub shared: SharedOptions,

    /// Print the status as one JSON object on stdout (shape in the README).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub shared: SharedOptions,
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub shared: SharedOptions,
}

const PROFILE_ERROR: &str = "--profile only applies to runtime commands and `codex mcp`: `codex`, `codex exec`, `codex review`, `codex resume`, `codex archive`, `codex delete`, `codex unarchive`, `codex fork`, `codex mcp`, `codex sandbox`, and `codex debug prompt-input`.";

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(1)
}

fn success(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::SUCCESS
}

/// Options upstream refuses for sign-in commands.
fn reject_runtime_options(shared: &SharedOptions, command: &str) -> Option<ExitCode> {
    if shared.profile.is_some() {
        return Some(fail(PROFILE_ERROR));
    }
    if shared.strict_config {
        return Some(fail(format!(
            "`--strict-config` is not supported for `codex {command}`"
        )));
    }
    None
}

/// Configuration → `AuthSettings`, printing the upstream message on failure.
fn auth_settings(
    shared: &SharedOptions,
    issuer: Option<String>,
    client_id: Option<String>,
) -> Result<AuthSettings, ExitCode> {
    let cwd = std::env::current_dir()
        .map_err(|error| fail(format!("Error loading configuration: {error}")))?;
    // Sign-in reads no `--profile` and never fails on unknown keys (as upstream).
    let only_overrides = SharedOptions {
        config: shared.config.clone(),
        enable: shared.enable.clone(),
        disable: shared.disable.clone(),
        profile: None,
        strict_config: false,
    };
    let mut options = only_overrides.loader_options(cwd).map_err(|error| {
        if error.is::<crate::exit::CliError>() {
            fail(format!("Error parsing -c overrides: {error}"))
        } else {
            fail(format!("Error loading configuration: {error}"))
        }
    })?;
    // Signing in runs nothing sandboxed: a policy that could not run here is not its business.
    options.defer_sandbox_refusals = true;
    let config = codex_config::load_config(&options).map_err(|error| match error {
        codex_config::LoadConfigError::Overrides(_) => fail(error),
        other => fail(format!("Error loading configuration: {other}")),
    })?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    let mut settings = AuthSettings::from_config(&config, AuthEnvironment::from_process());
    if let Some(issuer) = issuer {
        settings.issuer = issuer;
    }
    if let Some(client_id) = client_id {
        settings.client_id = client_id;
    }
    Ok(settings)
}

fn start_login_log(settings: &AuthSettings) {
    if let Err(error) = codex_login::init_login_log(&settings.codex_home.join("log")) {
        eprintln!("Warning: failed to open login log: {error}");
    }
}

pub fn run_login(root: SharedOptions, args: LoginArgs) -> anyhow::Result<ExitCode> {
    let mut shared = root.merge(args.shared);
    match args.action {
        Some(LoginSubcommand::Status(status)) => {
            shared = shared.merge(status.shared);
            if let Some(code) = reject_runtime_options(&shared, "login") {
                return Ok(code);
            }
            return Ok(run_status(&shared, status.json));
        }
        Some(LoginSubcommand::Refresh(refresh)) => {
            shared = shared.merge(refresh.shared);
            return Ok(run_refresh(&shared));
        }
        None => {}
    }
    if let Some(code) = reject_runtime_options(&shared, "login") {
        return Ok(code);
    }
    if args.with_api_key && args.with_access_token {
        return Ok(fail(
            "Choose one login credential source: --with-api-key or --with-access-token.",
        ));
    }
    if args.device_auth {
        return Ok(run_device_login(&shared, args.issuer, args.client_id));
    }
    if args.api_key.is_some() {
        return Ok(fail(
            "The --api-key flag is no longer supported. Pipe the key instead, e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`.",
        ));
    }
    if args.with_api_key {
        return Ok(run_stdin_login(&shared, StdinCredential::ApiKey));
    }
    if args.with_access_token {
        return Ok(run_stdin_login(&shared, StdinCredential::AccessToken));
    }
    Ok(run_browser_login(&shared, args.issuer, args.client_id))
}

#[derive(Clone, Copy)]
enum StdinCredential {
    ApiKey,
    AccessToken,
}

fn read_stdin_credential(kind: StdinCredential) -> Result<Secret, ExitCode> {
    let (flag, variable, what) = match kind {
        StdinCredential::ApiKey => ("--with-api-key", "OPENAI_API_KEY", "API key"),
        StdinCredential::AccessToken => {
            ("--with-access-token", "CODEX_ACCESS_TOKEN", "access token")
        }
    };
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(fail(format!(
            "{flag} expects the {what} on stdin. Try piping it, e.g. `printenv {variable} | codex login {flag}`."
        )));
    }
    eprintln!("Reading {what} from stdin...");
    let mut text = String::new();
    if let Err(error) = stdin.read_to_string(&mut text) {
        return Err(fail(format!("Failed to read stdin: {error}")));
    }
    let value = text.trim();
    if value.is_empty() {
        return Err(fail(format!("No {what} provided via stdin.")));
    }
    Ok(Secret::new(value))
}

fn run_stdin_login(shared: &SharedOptions, kind: StdinCredential) -> ExitCode {
    let secret = match read_stdin_credential(kind) {
        Ok(secret) => secret,
        Err(code) => return code,
    };
    let settings = match auth_settings(shared, None, None) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    start_login_log(&settings);
    let manager = AuthManager::new(settings);
    let (result, prefix) = match kind {
        StdinCredential::ApiKey => (manager.login_with_api_key(secret), "Error logging in"),
        StdinCredential::AccessToken => (
            manager.login_with_access_token(secret),
            "Error logging in with access token",
        ),
    };
    let saved = match kind {
        // The key is not sent anywhere at login (upstream 0.169 wording).
        StdinCredential::ApiKey => {
            "API key saved. Authentication is checked when you send a request."
        }
        StdinCredential::AccessToken => "Successfully logged in",
    };
    match result {
        Ok(()) => success(saved),
        Err(LoginError::Policy(
            violation @ (PolicyViolation::ApiKeyLoginDisabled
            | PolicyViolation::AccessTokenLoginDisabled),
        )) => fail(violation),
        Err(error) => fail(format!("{prefix}: {error}")),
    }
}

fn chatgpt_settings(
    shared: &SharedOptions,
    issuer: Option<String>,
    client_id: Option<String>,
) -> Result<AuthSettings, ExitCode> {
    let settings = auth_settings(shared, issuer, client_id)?;
    if !settings.allows(LoginMethod::Chatgpt) {
        return Err(fail(PolicyViolation::ChatgptLoginDisabled));
    }
    start_login_log(&settings);
    Ok(settings)
}

fn run_browser_login(
    shared: &SharedOptions,
    issuer: Option<String>,
    client_id: Option<String>,
) -> ExitCode {
    let settings = match chatgpt_settings(shared, issuer, client_id) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let manager = AuthManager::new(settings);
    let result = manager.login_with_browser(|login| {
        eprintln!(
            "Starting local login server on http://localhost:{}.\nIf your browser did not open, navigate to this URL to authenticate:\n\n{}\n\nOn a remote or headless machine? Use `codex login --device-auth` instead.",
            login.port, login.auth_url
        );
    });
    match result {
        Ok(()) => signed_in(&manager),
        Err(error) => fail(format!("Error logging in: {error}")),
    }
}

/// After a browser or device-code login: say which account was signed in (so a login the user
/// did not start is noticed), then the upstream success line.
fn signed_in(manager: &AuthManager) -> ExitCode {
    match manager.stored_chatgpt_account() {
        Ok(Some(account)) => eprintln!(
            "Signed in as {}. If this is not your account, run `codex logout`.",
            account.account_summary()
        ),
        Ok(None) => {}
        Err(error) => eprintln!("Warning: could not read back the stored credentials: {error}"),
    }
    success("Successfully logged in")
}

fn run_device_login(
    shared: &SharedOptions,
    issuer: Option<String>,
    client_id: Option<String>,
) -> ExitCode {
    let settings = match chatgpt_settings(shared, issuer, client_id) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let manager = AuthManager::new(settings);
    let result = manager.login_with_device_code(|prompt| {
        eprint!(
            "{}",
            device_prompt(&prompt.verification_url, &prompt.user_code)
        );
    });
    match result {
        Ok(()) => signed_in(&manager),
        Err(error) => fail(format!("Error logging in with device code: {error}")),
    }
}

/// The device-code instructions; styled only when stderr is a terminal and `NO_COLOR` is unset.
fn device_prompt(url: &str, code: &str) -> String {
    let styled = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let style = |codes: &str, text: &str| {
        if styled {
            format!("\x1b[{codes}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let (dim, blue) = ("2", "94");
    format!(
        "\nWelcome to Codex {}\n{}\n\nFollow these steps to sign in with ChatGPT using device code authorization:\n\n1. Open this link in your browser and sign in to your account\n   {}\n\n2. Enter this one-time code {}\n   {}\n\n{}\n",
        style(dim, &format!("[v{}]", env!("CARGO_PKG_VERSION"))),
        style(dim, "OpenAI's command-line coding agent"),
        style(blue, url),
        style(dim, "(expires in 15 minutes)"),
        style(blue, code),
        style(
            dim,
            "Device codes are a common phishing target. Never share this code."
        ),
    )
}

fn run_status(shared: &SharedOptions, json: bool) -> ExitCode {
    let settings = match auth_settings(shared, None, None) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    crate::login_status::run(&AuthManager::new(settings), json)
}

fn run_refresh(shared: &SharedOptions) -> ExitCode {
    let settings = match auth_settings(shared, None, None) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    start_login_log(&settings);
    match AuthManager::new(settings).refresh_if_due() {
        Ok(RefreshOutcome::NotNeeded) => success("Tokens are still fresh"),
        Ok(RefreshOutcome::Refreshed) => success("Refreshed tokens"),
        Ok(RefreshOutcome::ReloadedFromStore) => {
            success("Using tokens refreshed by another process")
        }
        Err(error) => fail(error),
    }
}

pub fn run_logout(root: SharedOptions, args: LogoutArgs) -> anyhow::Result<ExitCode> {
    let shared = root.merge(args.shared);
    if let Some(code) = reject_runtime_options(&shared, "logout") {
        return Ok(code);
    }
    let settings = match auth_settings(&shared, None, None) {
        Ok(settings) => settings,
        Err(code) => return Ok(code),
    };
    start_login_log(&settings);
    Ok(match AuthManager::new(settings).logout() {
        Ok(true) => success("Successfully logged out"),
        Ok(false) => success("Not logged in"),
        Err(error) => fail(format!("Error logging out: {error}")),
    })
}
