//! Resolved sign-in settings, and the one place that reads sign-in environment variables.
//!
//! The CLI builds an [`AuthSettings`] once from configuration and flags; library code never reads
//! clap, configuration files or (outside [`AuthEnvironment::from_process`]) the environment.

use std::path::PathBuf;

use crate::secret::Secret;

/// The default OAuth issuer.
pub const DEFAULT_ISSUER: &str = "https://auth.openai.com";
/// The OAuth client id of the Codex CLI.
pub const DEFAULT_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The default ChatGPT backend base URL (the configuration's default).
pub use codex_config::DEFAULT_CHATGPT_BASE_URL;
/// Where personal-access-token metadata lives by default.
pub const DEFAULT_AUTHAPI_BASE_URL: &str = "https://auth.openai.com/api/accounts";
/// The default `originator` value.
pub const DEFAULT_ORIGINATOR: &str = "codex_cli_rs";
/// The browser-login callback port, and the fallback registered with the issuer.
pub const DEFAULT_LOGIN_PORT: u16 = 1455;
pub const FALLBACK_LOGIN_PORT: u16 = 1457;

/// Names of every environment variable the sign-in code reads.
pub mod env_names {
    pub const CODEX_API_KEY: &str = "CODEX_API_KEY";
    pub const CODEX_ACCESS_TOKEN: &str = "CODEX_ACCESS_TOKEN";
    pub const REFRESH_TOKEN_URL_OVERRIDE: &str = "CODEX_REFRESH_TOKEN_URL_OVERRIDE";
    pub const REVOKE_TOKEN_URL_OVERRIDE: &str = "CODEX_REVOKE_TOKEN_URL_OVERRIDE";
    pub const AUTHAPI_BASE_URL: &str = "CODEX_AUTHAPI_BASE_URL";
    pub const ORIGINATOR_OVERRIDE: &str = "CODEX_INTERNAL_ORIGINATOR_OVERRIDE";
    /// Test hook (not upstream): the browser-login port instead of 1455.
    pub const LOGIN_SERVER_PORT: &str = "CODEX_LOGIN_SERVER_PORT";
    /// Test hook (not upstream): the fallback browser-login port instead of 1457.
    pub const LOGIN_SERVER_FALLBACK_PORT: &str = "CODEX_LOGIN_SERVER_FALLBACK_PORT";
    /// The browser command(s) to open the authorize URL with (`:`-separated, `%s` = the URL).
    pub const BROWSER: &str = "BROWSER";
    /// The session bus (for the Secret Service keyring).
    pub const DBUS_SESSION_BUS_ADDRESS: &str = "DBUS_SESSION_BUS_ADDRESS";
    /// Where the session bus socket is when `DBUS_SESSION_BUS_ADDRESS` is unset (`$dir/bus`).
    pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";
}

pub use codex_config::{CredentialsStore, LoginMethod};

/// Values taken from the process environment, trimmed; empty counts as unset.
#[derive(Debug, Clone, Default)]
pub struct AuthEnvironment {
    pub codex_api_key: Option<Secret>,
    pub codex_access_token: Option<Secret>,
    pub refresh_token_url_override: Option<String>,
    pub revoke_token_url_override: Option<String>,
    pub authapi_base_url: Option<String>,
    pub originator: Option<String>,
    pub login_port: Option<u16>,
    pub login_fallback_port: Option<u16>,
    pub browser: Option<String>,
    pub session_bus_address: Option<String>,
    pub runtime_dir: Option<PathBuf>,
}

impl AuthEnvironment {
    /// Read every sign-in variable once.
    pub fn from_process() -> AuthEnvironment {
        fn text(name: &str) -> Option<String> {
            let value = std::env::var(name).ok()?;
            let trimmed = value.trim();
            (!trimmed.is_empty()).then(|| trimmed.to_string())
        }
        AuthEnvironment {
            codex_api_key: text(env_names::CODEX_API_KEY).map(Secret::new),
            codex_access_token: text(env_names::CODEX_ACCESS_TOKEN).map(Secret::new),
            refresh_token_url_override: text(env_names::REFRESH_TOKEN_URL_OVERRIDE),
            revoke_token_url_override: text(env_names::REVOKE_TOKEN_URL_OVERRIDE),
            authapi_base_url: text(env_names::AUTHAPI_BASE_URL),
            originator: text(env_names::ORIGINATOR_OVERRIDE),
            login_port: text(env_names::LOGIN_SERVER_PORT).and_then(|port| port.parse().ok()),
            login_fallback_port: text(env_names::LOGIN_SERVER_FALLBACK_PORT)
                .and_then(|port| port.parse().ok()),
            browser: text(env_names::BROWSER),
            session_bus_address: text(env_names::DBUS_SESSION_BUS_ADDRESS),
            runtime_dir: std::env::var_os(env_names::XDG_RUNTIME_DIR)
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// Everything the sign-in code needs, resolved once.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub codex_home: PathBuf,
    pub store_mode: CredentialsStore,
    pub forced_login_method: Option<LoginMethod>,
    pub forced_workspace_ids: Vec<String>,
    pub chatgpt_base_url: String,
    /// OAuth issuer for the browser and device flows (`--experimental_issuer`).
    pub issuer: String,
    /// OAuth client id (`--experimental_client-id`).
    pub client_id: String,
    pub environment: AuthEnvironment,
}

impl AuthSettings {
    /// Defaults for `codex_home` with the given environment.
    pub fn new(codex_home: PathBuf, environment: AuthEnvironment) -> AuthSettings {
        AuthSettings {
            codex_home,
            store_mode: CredentialsStore::File,
            forced_login_method: None,
            forced_workspace_ids: Vec::new(),
            chatgpt_base_url: DEFAULT_CHATGPT_BASE_URL.to_string(),
            issuer: DEFAULT_ISSUER.to_string(),
            client_id: DEFAULT_CLIENT_ID.to_string(),
            environment,
        }
    }

    pub fn issuer(&self) -> &str {
        self.issuer.trim_end_matches('/')
    }

    pub fn originator(&self) -> &str {
        self.environment
            .originator
            .as_deref()
            .unwrap_or(DEFAULT_ORIGINATOR)
    }

    /// Whether `method` may be used under `forced_login_method`.
    pub fn allows(&self, method: LoginMethod) -> bool {
        self.forced_login_method
            .is_none_or(|forced| forced == method)
    }

    /// The token endpoint used for refresh (`CODEX_REFRESH_TOKEN_URL_OVERRIDE` wins).
    pub fn refresh_token_url(&self) -> String {
        match &self.environment.refresh_token_url_override {
            Some(url) => url.clone(),
            None => format!("{DEFAULT_ISSUER}/oauth/token"),
        }
    }

    /// The revoke endpoint: `CODEX_REVOKE_TOKEN_URL_OVERRIDE`, else the refresh override with its
    /// path replaced by `/oauth/revoke` (query dropped), else the default issuer's.
    pub fn revoke_token_url(&self) -> String {
        if let Some(url) = &self.environment.revoke_token_url_override {
            return url.clone();
        }
        match &self.environment.refresh_token_url_override {
            Some(refresh) => format!("{}/oauth/revoke", origin_of(refresh)),
            None => format!("{DEFAULT_ISSUER}/oauth/revoke"),
        }
    }

    pub fn authapi_base_url(&self) -> String {
        self.environment
            .authapi_base_url
            .as_deref()
            .unwrap_or(DEFAULT_AUTHAPI_BASE_URL)
            .trim_end_matches('/')
            .to_string()
    }

    pub(crate) fn login_ports(&self) -> (u16, u16) {
        (
            self.environment.login_port.unwrap_or(DEFAULT_LOGIN_PORT),
            self.environment
                .login_fallback_port
                .unwrap_or(FALLBACK_LOGIN_PORT),
        )
    }
}

impl AuthSettings {
    /// The settings of the resolved configuration (`cli_auth_credentials_store`,
    /// `forced_login_method`, `forced_chatgpt_workspace_id`, `chatgpt_base_url`, requirements
    /// applied) for its `CODEX_HOME`, with `environment` (usually
    /// [`AuthEnvironment::from_process`]).
    pub fn from_config(
        config: &codex_config::Config,
        environment: AuthEnvironment,
    ) -> AuthSettings {
        let login = &config.login;
        let mut settings = AuthSettings::new(config.codex_home.clone(), environment);
        settings.store_mode = login.credentials_store;
        settings.forced_login_method = login.forced_login_method;
        settings.forced_workspace_ids = login.forced_chatgpt_workspace_id.clone();
        settings.chatgpt_base_url = login.chatgpt_base_url.clone();
        settings
    }
}

/// `scheme://authority` of an absolute URL (the input unchanged when it has no scheme).
fn origin_of(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else {
        return url.trim_end_matches('/');
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |index| authority_start + index);
    &url[..authority_end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(environment: AuthEnvironment) -> AuthSettings {
        AuthSettings::new(PathBuf::from("/nonexistent"), environment)
    }

    #[test]
    fn derives_revoke_url_from_refresh_token_override() {
        let environment = AuthEnvironment {
            refresh_token_url_override: Some(
                "http://127.0.0.1:1234/oauth/token?unified=true".into(),
            ),
            ..AuthEnvironment::default()
        };
        assert_eq!(
            settings(environment).revoke_token_url(),
            "http://127.0.0.1:1234/oauth/revoke"
        );
    }

    #[test]
    fn revoke_override_wins_and_defaults_use_the_default_issuer() {
        let environment = AuthEnvironment {
            refresh_token_url_override: Some("http://127.0.0.1:1/oauth/token".into()),
            revoke_token_url_override: Some("http://127.0.0.1:2/revoke".into()),
            ..AuthEnvironment::default()
        };
        assert_eq!(
            settings(environment).revoke_token_url(),
            "http://127.0.0.1:2/revoke"
        );
        let defaults = settings(AuthEnvironment::default());
        assert_eq!(
            defaults.revoke_token_url(),
            "https://auth.openai.com/oauth/revoke"
        );
        assert_eq!(
            defaults.refresh_token_url(),
            "https://auth.openai.com/oauth/token"
        );
    }

    #[test]
    fn forced_method_allows_only_itself() {
        let mut settings = settings(AuthEnvironment::default());
        assert!(settings.allows(LoginMethod::Api) && settings.allows(LoginMethod::Chatgpt));
        settings.forced_login_method = Some(LoginMethod::Chatgpt);
        assert!(!settings.allows(LoginMethod::Api) && settings.allows(LoginMethod::Chatgpt));
    }

    #[test]
    fn from_config_maps_every_sign_in_setting() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("config.toml"),
            "cli_auth_credentials_store = 'ephemeral'\nforced_login_method = 'api'\nforced_chatgpt_workspace_id = 'ws-1'\nchatgpt_base_url = 'https://chat.example/'\n",
        )
        .unwrap();
        let config = codex_config::load_config(&codex_config::LoaderOptions {
            cwd: dir.path().to_path_buf(),
            codex_home: home.clone(),
            system_config_dir: dir.path().join("etc"),
            raw_overrides: Vec::new(),
            profile: None,
            strict: false,
            requirements: codex_config::RequirementsMode::Ignore,
            sandbox: codex_config::SandboxSelection::default(),
            defer_sandbox_refusals: false,
        })
        .unwrap();
        let settings = AuthSettings::from_config(&config, AuthEnvironment::default());
        assert_eq!(settings.codex_home, home);
        assert_eq!(settings.store_mode, CredentialsStore::Ephemeral);
        assert_eq!(settings.forced_login_method, Some(LoginMethod::Api));
        assert_eq!(settings.forced_workspace_ids, vec!["ws-1".to_string()]);
        assert_eq!(settings.chatgpt_base_url, "https://chat.example/");
        assert_eq!(settings.issuer, DEFAULT_ISSUER);
    }
}
