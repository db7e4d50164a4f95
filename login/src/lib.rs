//! Sign-in for the `codex` CLI: credential storage (auth.json, OS keyring, memory), API-key and
//! access-token login, browser and device-code OAuth, token refresh, revoke and logout, and the
//! forced-login policy.

mod access_token;
mod auth;
mod auth_file;
mod browser;
#[cfg(target_os = "linux")]
mod dbus;
mod device_code;
mod fs_atomic;
mod http;
mod log;
mod login;
mod manager;
mod oauth;
mod policy;
mod refresh;
mod revoke;
mod secret;
mod server;
mod server_pages;
mod server_request;
mod settings;
mod storage;
#[cfg(test)]
mod test_http;
mod time;
mod token_data;
mod token_refresh;

pub use access_token::{
    AccessTokenError, AccessTokenKind, PersonalAccessTokenMetadata, classify_access_token,
    precheck_access_token,
};
pub use auth::{CodexAuth, CredentialSource, mask_api_key};
pub use auth_file::{AuthDotJson, AuthMode, StoredAgentIdentity, TokenData};
pub use device_code::{DeviceCodeError, DeviceCodePrompt};
pub use http::TransportError;
pub use log::{LOGIN_LOG_FILE_NAME, init_login_log};
pub use login::LoginError;
pub use manager::{
    ApiKeyEnv, AuthForRequestError, AuthManager, EnforceLoginError, LoadAuthError, RefreshOutcome,
};
pub use oauth::{FinishLoginError, TokenExchangeError};
pub use policy::PolicyViolation;
pub use refresh::{PermanentRefreshFailure, RefreshTokenError};
pub use revoke::RevokeTokenError;
pub use secret::Secret;
pub use server::{BrowserLogin, BrowserLoginError};
pub use settings::{
    AuthEnvironment, AuthSettings, CredentialsStore, DEFAULT_CHATGPT_BASE_URL, DEFAULT_CLIENT_ID,
    DEFAULT_ISSUER, LoginMethod, env_names,
};
pub use storage::{
    AuthStore, AuthStoreError, CredentialLocation, KEYRING_SERVICE, KeyringBackend, KeyringError,
    KeyringLocation, StoreLock, os_keyring, store_key,
};
pub use time::Timestamp;
pub use token_data::{IdTokenInfo, TokenClaimsError, parse_chatgpt_jwt_claims};
