//! `AuthManager`: which credentials a command runs with (`CODEX_API_KEY` > `CODEX_ACCESS_TOKEN` >
//! stored), the forced-login policy, proactive refresh, and logout.

use crate::access_token::{
    AccessTokenError, AccessTokenKind, fetch_personal_access_token_metadata, precheck_access_token,
    verify_agent_identity,
};
use crate::auth::{CodexAuth, CredentialSource};
use crate::auth_file::{AuthDotJson, AuthMode, StoredAgentIdentity};
use crate::log::login_log;
use crate::policy::{PolicyViolation, check_credentials};
use crate::refresh::RefreshTokenError;
use crate::revoke::revoke_tokens;
use crate::secret::Secret;
use crate::settings::{AuthSettings, LoginMethod};
use crate::storage::{AuthStore, AuthStoreError};
use crate::token_data::{IdTokenInfo, parse_chatgpt_jwt_claims};

/// Whether `CODEX_API_KEY` takes part in resolution (`codex exec` yes, `codex login status` no).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyEnv {
    Enabled,
    Disabled,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadAuthError {
    #[error(transparent)]
    Store(#[from] AuthStoreError),
    #[error(
        "the stored access token cannot be used: {0}{advice}",
        advice = if .0.is_local() { "; sign in again with `codex login --with-access-token`" } else { "" }
    )]
    AccessToken(#[from] AccessTokenError),
    #[error(
        "`CODEX_ACCESS_TOKEN` cannot be used: {0}{advice}",
        advice = if .0.is_local() { "; fix or unset the variable" } else { "" }
    )]
    EnvironmentAccessToken(AccessTokenError),
    #[error("API key auth is missing a key.")]
    MissingApiKey,
    #[error("CODEX_ACCESS_TOKEN belongs to a workspace that is not allowed: {0}")]
    EnvironmentWorkspace(PolicyViolation),
}

/// Credentials not allowed by the policy were found (and removed when stored).
#[derive(Debug, thiserror::Error)]
pub enum EnforceLoginError {
    #[error(transparent)]
    Load(#[from] LoadAuthError),
    #[error("{0}")]
    Violation(PolicyViolation),
    #[error("{0}. Failed to remove auth.json: {1}")]
    RemovalFailed(PolicyViolation, AuthStoreError),
}

/// What a refresh attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The access token is still fresh (or the credentials are not refreshable).
    NotNeeded,
    /// New tokens were obtained and stored.
    Refreshed,
    /// Another process had already refreshed; its stored tokens were adopted.
    ReloadedFromStore,
}

/// Resolves, checks, refreshes and removes credentials for one CODEX_HOME.
#[derive(Debug)]
pub struct AuthManager {
    pub(crate) settings: AuthSettings,
    pub(crate) store: AuthStore,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    Policy,
    Unfiltered,
}

impl AuthManager {
    pub fn new(settings: AuthSettings) -> AuthManager {
        let keyring = std::sync::Arc::from(crate::storage::os_keyring(&settings.environment));
        let store =
            AuthStore::with_keyring(settings.store_mode, settings.codex_home.clone(), keyring);
        AuthManager { settings, store }
    }

    /// A manager over a specific store (tests use one with an in-memory keyring).
    pub fn with_store(settings: AuthSettings, store: AuthStore) -> AuthManager {
        AuthManager { settings, store }
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    pub fn store(&self) -> &AuthStore {
        &self.store
    }

    /// The credentials to use, in upstream order: `CODEX_API_KEY` (when enabled), then
    /// `CODEX_ACCESS_TOKEN`, then the store. Credentials the policy does not allow count as
    /// "not logged in".
    pub fn resolve(&self, api_key_env: ApiKeyEnv) -> Result<Option<CodexAuth>, LoadAuthError> {
        self.resolve_with(api_key_env, Filter::Policy)
    }

    fn resolve_with(
        &self,
        api_key_env: ApiKeyEnv,
        filter: Filter,
    ) -> Result<Option<CodexAuth>, LoadAuthError> {
        let allows = |method| filter == Filter::Unfiltered || self.settings.allows(method);
        let environment = &self.settings.environment;
        if let (ApiKeyEnv::Enabled, Some(key)) = (api_key_env, &environment.codex_api_key)
            && allows(LoginMethod::Api)
        {
            return Ok(Some(CodexAuth::ApiKey {
                key: key.clone(),
                source: CredentialSource::Environment,
            }));
        }
        if let Some(token) = &environment.codex_access_token
            && allows(LoginMethod::Chatgpt)
        {
            let auth = self
                .access_token_auth(token, CredentialSource::Environment)
                .map_err(LoadAuthError::EnvironmentAccessToken)?;
            if filter == Filter::Policy
                && let Err(violation) =
                    check_credentials(&self.settings, auth.method(), auth.account_id())
            {
                return Err(LoadAuthError::EnvironmentWorkspace(violation));
            }
            return Ok(Some(auth));
        }
        let Some(document) = self.store.load()? else {
            return Ok(None);
        };
        let Some(auth) = self.stored_auth(document)? else {
            return Ok(None);
        };
        if filter == Filter::Policy
            && let Err(violation) =
                check_credentials(&self.settings, auth.method(), auth.account_id())
        {
            login_log(format_args!(
                "stored credentials are not allowed: {violation}"
            ));
            return Ok(None);
        }
        Ok(Some(auth))
    }

    fn access_token_auth(
        &self,
        token: &Secret,
        source: CredentialSource,
    ) -> Result<CodexAuth, AccessTokenError> {
        Ok(match precheck_access_token(token)? {
            AccessTokenKind::PersonalAccessToken => CodexAuth::PersonalAccessToken {
                metadata: fetch_personal_access_token_metadata(&self.settings, token)?,
                token: token.clone(),
                source,
            },
            AccessTokenKind::AgentIdentity => {
                let claims = verify_agent_identity(&self.settings, token)?;
                CodexAuth::AgentIdentity {
                    token: Some(token.clone()),
                    account_id: Some(claims.account_id),
                    source,
                }
            }
        })
    }

    fn stored_auth(&self, document: AuthDotJson) -> Result<Option<CodexAuth>, LoadAuthError> {
        Ok(match document.effective_mode() {
            AuthMode::ApiKey => match document.openai_api_key {
                Some(key) => Some(CodexAuth::ApiKey {
                    key,
                    source: CredentialSource::Store,
                }),
                None => return Err(LoadAuthError::MissingApiKey),
            },
            AuthMode::PersonalAccessToken => match &document.personal_access_token {
                Some(token) => Some(self.access_token_auth(token, CredentialSource::Store)?),
                None => None,
            },
            AuthMode::AgentIdentity => match document.agent_identity {
                Some(StoredAgentIdentity::Jwt(token)) => {
                    Some(self.access_token_auth(&token, CredentialSource::Store)?)
                }
                Some(record @ StoredAgentIdentity::Record(_)) => Some(CodexAuth::AgentIdentity {
                    token: None,
                    account_id: record.record_account_id().map(str::to_string),
                    source: CredentialSource::Store,
                }),
                None => None,
            },
            mode @ (AuthMode::BedrockApiKey | AuthMode::BedrockAccessKeys) => {
                Some(CodexAuth::Bedrock { mode })
            }
            AuthMode::Chatgpt | AuthMode::ChatgptAuthTokens | AuthMode::Headers => {
                document.tokens.map(|tokens| {
                    let id_token = parse_chatgpt_jwt_claims(tokens.id_token.expose())
                        .unwrap_or_else(|error| {
                            login_log(format_args!("stored id_token is unreadable: {error}"));
                            Default::default()
                        });
                    CodexAuth::Chatgpt {
                        tokens,
                        id_token,
                        api_key: document.openai_api_key,
                        last_refresh: document.last_refresh,
                    }
                })
            }
        })
    }

    /// Startup enforcement: credentials the policy forbids are removed from every store and
    /// reported with the upstream message. Environment credentials are only reported.
    pub fn enforce_login_restrictions(&self) -> Result<(), EnforceLoginError> {
        let Some(auth) = self.resolve_with(ApiKeyEnv::Enabled, Filter::Unfiltered)? else {
            return Ok(());
        };
        let Err(violation) = check_credentials(&self.settings, auth.method(), auth.account_id())
        else {
            return Ok(());
        };
        let from_environment = matches!(
            auth,
            CodexAuth::ApiKey {
                source: CredentialSource::Environment,
                ..
            } | CodexAuth::AgentIdentity {
                source: CredentialSource::Environment,
                ..
            } | CodexAuth::PersonalAccessToken {
                source: CredentialSource::Environment,
                ..
            }
        );
        if from_environment {
            return Err(EnforceLoginError::Violation(violation));
        }
        let removal = self
            .store
            .lock()
            .and_then(|lock| self.store.delete_everywhere(&lock));
        match removal {
            Ok(_) => Err(EnforceLoginError::Violation(violation)),
            Err(error) => Err(EnforceLoginError::RemovalFailed(violation, error)),
        }
    }

    /// Credentials for an API request: like [`AuthManager::resolve`], after refreshing stored
    /// ChatGPT tokens that are due. A transient refresh failure is logged and the current token
    /// is used; a permanent one is returned (the stored refresh token has been blanked).
    pub fn auth_for_request(
        &self,
        api_key_env: ApiKeyEnv,
    ) -> Result<Option<CodexAuth>, AuthForRequestError> {
        let auth = self.resolve(api_key_env)?;
        if !matches!(auth, Some(CodexAuth::Chatgpt { .. })) {
            return Ok(auth);
        }
        match self.refresh_if_due() {
            Ok(RefreshOutcome::NotNeeded) => Ok(auth),
            Ok(RefreshOutcome::Refreshed | RefreshOutcome::ReloadedFromStore) => {
                Ok(self.resolve(api_key_env)?)
            }
            Err(error @ RefreshTokenError::Permanent(_)) => Err(error.into()),
            Err(error) => {
                login_log(format_args!("proactive refresh failed: {error}"));
                Ok(auth)
            }
        }
    }

    /// The ChatGPT account the stored tokens belong to, read back after a browser or
    /// device-code login to show who was signed in (a login the user did not start shows up as
    /// someone else's account): the id_token's claims, with the access token's plan when the
    /// id_token has none. `None` when no ChatGPT tokens are stored.
    pub fn stored_chatgpt_account(&self) -> Result<Option<IdTokenInfo>, AuthStoreError> {
        let Some(tokens) = self.store.load()?.and_then(|document| document.tokens) else {
            return Ok(None);
        };
        let mut account = parse_chatgpt_jwt_claims(tokens.id_token.expose()).unwrap_or_default();
        if account.chatgpt_plan_type.is_none() {
            account.chatgpt_plan_type = parse_chatgpt_jwt_claims(tokens.access_token.expose())
                .ok()
                .and_then(|claims| claims.chatgpt_plan_type);
        }
        Ok(Some(account))
    }

    /// Revoke stored ChatGPT tokens (best effort, bounded), then remove the credentials from
    /// every store. `Ok(true)` when something was removed. The credential lock is held from the
    /// load through the revoke and the delete, so the tokens revoked are the ones removed (a
    /// concurrent refresh cannot rotate them in between). Credentials that cannot be read are
    /// still removed: this is the way out the "not a valid auth file" error points to.
    pub fn logout(&self) -> Result<bool, AuthStoreError> {
        self.clear_credentials(Clearing::Logout)
    }

    /// The clear that precedes a browser or device-code login. Unlike [`AuthManager::logout`]
    /// it stops, removing nothing, when stored credentials exist but cannot be used (unreadable,
    /// refused or malformed), so a login that is then cancelled or fails cannot have destroyed
    /// a hand-edited file. Other failures are logged and the login goes on.
    pub(crate) fn clear_before_login(&self) -> Result<(), AuthStoreError> {
        match self.clear_credentials(Clearing::BeforeLogin) {
            Ok(_) => Ok(()),
            Err(error) if error.is_unusable_document() => Err(error),
            Err(error) => {
                login_log(format_args!(
                    "clearing credentials before login failed: {error}"
                ));
                Ok(())
            }
        }
    }

    fn clear_credentials(&self, clearing: Clearing) -> Result<bool, AuthStoreError> {
        let lock = self.store.lock()?;
        if clearing == Clearing::BeforeLogin {
            self.store.check_replaceable_everywhere(&lock)?;
        }
        match self.store.load() {
            Ok(Some(document)) => {
                if let (AuthMode::Chatgpt, Some(tokens)) =
                    (document.effective_mode(), &document.tokens)
                {
                    match revoke_tokens(&self.settings, tokens) {
                        Ok(()) => login_log(format_args!("revoked the stored tokens")),
                        Err(error) => login_log(format_args!("token revocation failed: {error}")),
                    }
                }
            }
            Ok(None) => {}
            Err(error) => login_log(format_args!("could not read stored credentials: {error}")),
        }
        self.store.delete_everywhere(&lock)
    }
}

/// Why credentials are being cleared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clearing {
    /// `codex logout`: remove whatever is there.
    Logout,
    /// Before a new login: keep credentials that cannot be read.
    BeforeLogin,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthForRequestError {
    #[error(transparent)]
    Load(#[from] LoadAuthError),
    #[error(transparent)]
    Refresh(#[from] RefreshTokenError),
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
