//! The credentials of one request: the bearer, the ChatGPT account id, and what a refresh after
//! a 401 needs.

use codex_login::{
    ApiKeyEnv, AuthDotJson, AuthForRequestError, AuthManager, AuthMode, CodexAuth, RefreshOutcome,
    RefreshTokenError, Secret,
};

use crate::error::ModelError;
use crate::provider::{CredentialSource, ProviderSettings};

/// What one request is sent with.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestAuth {
    pub bearer: Option<Secret>,
    /// `ChatGPT-Account-ID`.
    pub account_id: Option<String>,
    /// ChatGPT-type credentials (they select chatgpt.com for the default `openai` provider).
    pub chatgpt: bool,
    /// The stored ChatGPT tokens used, for a refresh after a 401.
    pub refreshable: Option<AuthDotJson>,
}

fn from_codex_auth(auth: CodexAuth) -> Result<RequestAuth, ModelError> {
    let account_id = auth.account_id().map(str::to_string);
    Ok(match auth {
        CodexAuth::ApiKey { key, .. } => RequestAuth {
            bearer: Some(key),
            ..RequestAuth::default()
        },
        CodexAuth::Chatgpt {
            tokens,
            api_key,
            last_refresh,
            ..
        } => RequestAuth {
            bearer: Some(tokens.access_token.clone()),
            account_id,
            chatgpt: true,
            refreshable: Some(AuthDotJson {
                auth_mode: Some(AuthMode::Chatgpt),
                openai_api_key: api_key,
                tokens: Some(tokens),
                last_refresh,
                ..AuthDotJson::default()
            }),
        },
        CodexAuth::AgentIdentity {
            token: Some(token), ..
        }
        | CodexAuth::PersonalAccessToken { token, .. } => RequestAuth {
            bearer: Some(token),
            account_id,
            chatgpt: true,
            refreshable: None,
        },
        CodexAuth::AgentIdentity { token: None, .. } => {
            return Err(ModelError::UnsupportedCredentials(
                "the stored access-token record holds no token this build can send; sign in again with `codex login --with-access-token`".into(),
            ));
        }
        CodexAuth::Bedrock { .. } => {
            return Err(ModelError::UnsupportedCredentials(
                "Amazon Bedrock credentials are not supported by this build; sign in with `codex login` or configure a provider with `env_key`".into(),
            ));
        }
    })
}

/// Whether requests signed in with `auth` go to the ChatGPT endpoint of the default `openai`
/// provider (the same decision a request makes).
pub(crate) fn selects_chatgpt_endpoint(auth: &CodexAuth) -> bool {
    from_codex_auth(auth.clone()).is_ok_and(|request| request.chatgpt)
}

/// The credentials for the next request to `provider`.
pub(crate) fn request_auth(
    provider: &ProviderSettings,
    manager: &AuthManager,
    api_key_env: ApiKeyEnv,
) -> Result<RequestAuth, ModelError> {
    match &provider.credentials {
        CredentialSource::None => Ok(RequestAuth::default()),
        CredentialSource::EnvKey { value, .. } | CredentialSource::Literal(value) => {
            Ok(RequestAuth {
                bearer: Some(value.clone()),
                ..RequestAuth::default()
            })
        }
        CredentialSource::OpenAi { fallback } => {
            let auth = manager
                .auth_for_request(api_key_env)
                .map_err(|error| match error {
                    AuthForRequestError::Refresh(refresh) => {
                        ModelError::SignIn(refresh.to_string())
                    }
                    AuthForRequestError::Load(load) => ModelError::Auth(load.to_string()),
                })?;
            match (auth, fallback) {
                (Some(auth), _) => from_codex_auth(auth),
                (None, Some(token)) => Ok(RequestAuth {
                    bearer: Some(token.clone()),
                    ..RequestAuth::default()
                }),
                (None, None) => Err(ModelError::NotSignedIn {
                    provider: provider.id.clone(),
                }),
            }
        }
    }
}

/// After a 401 with stored ChatGPT tokens: refresh them (or adopt what another process stored).
pub(crate) fn refresh_after_unauthorized(
    manager: &AuthManager,
    snapshot: &AuthDotJson,
) -> Result<(), ModelError> {
    match manager.refresh_snapshot(snapshot) {
        Ok(RefreshOutcome::Refreshed | RefreshOutcome::ReloadedFromStore) => Ok(()),
        Ok(RefreshOutcome::NotNeeded) => Err(ModelError::SignIn(
            "the server refused the ChatGPT credentials and they could not be refreshed; sign in again with `codex login`".into(),
        )),
        Err(error @ RefreshTokenError::Permanent(_)) => Err(ModelError::SignIn(error.to_string())),
        Err(error) => Err(ModelError::SignIn(format!(
            "{error}; sign in again with `codex login` if this persists"
        ))),
    }
}
