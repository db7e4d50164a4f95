//! Storing the result of a login: API key, access token, or ChatGPT OAuth tokens.

use crate::access_token::{
    AccessTokenError, AccessTokenKind, fetch_personal_access_token_metadata, precheck_access_token,
    precheck_agent_identity, verify_agent_identity,
};
use crate::auth_file::{AuthDotJson, AuthMode, StoredAgentIdentity, TokenData};
use crate::log::login_log;
use crate::manager::AuthManager;
use crate::policy::{PolicyViolation, check_login_workspace};
use crate::secret::Secret;
use crate::settings::LoginMethod;
use crate::storage::AuthStoreError;
use crate::time::Timestamp;
use crate::token_refresh::sync_account_id;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Policy(#[from] PolicyViolation),
    #[error(transparent)]
    Store(#[from] AuthStoreError),
    #[error(transparent)]
    AccessToken(#[from] AccessTokenError),
}

impl AuthManager {
    /// `codex login --with-api-key`: store `{"auth_mode":"apikey","OPENAI_API_KEY":key}`,
    /// replacing whatever was stored.
    pub fn login_with_api_key(&self, key: Secret) -> Result<(), LoginError> {
        if !self.settings.allows(LoginMethod::Api) {
            return Err(PolicyViolation::ApiKeyLoginDisabled.into());
        }
        self.replace_stored(&AuthDotJson::api_key(key))?;
        login_log(format_args!("stored an API key"));
        Ok(())
    }

    /// `codex login --with-access-token`: a personal access token (`at-…`, checked with the
    /// whoami endpoint) or an agent-identity JWT (verified against the JWKS).
    pub fn login_with_access_token(&self, token: Secret) -> Result<(), LoginError> {
        if !self.settings.allows(LoginMethod::Chatgpt) {
            return Err(PolicyViolation::AccessTokenLoginDisabled.into());
        }
        let document = match precheck_access_token(&token)? {
            AccessTokenKind::PersonalAccessToken => {
                let metadata = fetch_personal_access_token_metadata(&self.settings, &token)?;
                check_login_workspace(&self.settings, metadata.chatgpt_account_id.as_deref())?;
                AuthDotJson {
                    personal_access_token: Some(token),
                    ..AuthDotJson::default()
                }
            }
            AccessTokenKind::AgentIdentity => {
                let unverified = precheck_agent_identity(&token)?;
                check_login_workspace(&self.settings, Some(&unverified.account_id))?;
                let verified = verify_agent_identity(&self.settings, &token)?;
                check_login_workspace(&self.settings, Some(&verified.account_id))?;
                AuthDotJson {
                    auth_mode: Some(AuthMode::AgentIdentity),
                    agent_identity: Some(StoredAgentIdentity::Jwt(token)),
                    ..AuthDotJson::default()
                }
            }
        };
        self.replace_stored(&document)?;
        login_log(format_args!("stored an access token"));
        Ok(())
    }

    /// Store ChatGPT tokens from an OAuth login (browser or device code).
    pub(crate) fn persist_chatgpt_tokens(
        &self,
        mut tokens: TokenData,
        api_key: Option<Secret>,
    ) -> Result<(), AuthStoreError> {
        sync_account_id(&mut tokens);
        let document = AuthDotJson {
            auth_mode: Some(AuthMode::Chatgpt),
            openai_api_key: api_key,
            tokens: Some(tokens),
            last_refresh: Some(Timestamp::now()),
            ..AuthDotJson::default()
        };
        self.replace_stored(&document)?;
        login_log(format_args!("stored ChatGPT tokens"));
        Ok(())
    }

    /// Replace the stored credentials under the lock. A stored document that does not parse is
    /// never overwritten: the error names it so the user can look before it is lost.
    fn replace_stored(&self, document: &AuthDotJson) -> Result<(), AuthStoreError> {
        let lock = self.store.lock()?;
        if let Err(
            error @ (AuthStoreError::Malformed { .. } | AuthStoreError::KeyringDeserialize(_)),
        ) = self.store.load()
        {
            return Err(error);
        }
        self.store.save(document, &lock)
    }
}
