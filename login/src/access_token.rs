//! Access tokens: personal access tokens (`at-…`, described by the whoami endpoint) and
//! agent-identity JWTs (verified against the JWKS derived from `chatgpt_base_url`).

use std::time::Duration;

use codex_agent_identity::{
    AgentIdentityClaims, AgentIdentityJwtError, Jwks, agent_identity_jwks_url,
    decode_agent_identity_jwt_unverified, verify_agent_identity_jwt,
};
use serde::Deserialize;

use crate::http::HttpClient;
use crate::log::login_log;
use crate::secret::Secret;
use crate::settings::AuthSettings;
use crate::time::Timestamp;

const JWKS_TIMEOUT: Duration = Duration::from_secs(10);
const WHOAMI_TIMEOUT: Duration = Duration::from_secs(30);

/// Which kind of access token a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessTokenKind {
    PersonalAccessToken,
    AgentIdentity,
}

/// `at-…` is a personal access token; anything else is an agent-identity JWT.
pub fn classify_access_token(token: &str) -> AccessTokenKind {
    if token.starts_with("at-") {
        AccessTokenKind::PersonalAccessToken
    } else {
        AccessTokenKind::AgentIdentity
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccessTokenError {
    #[error("failed to request personal access token metadata: {0}")]
    WhoamiRequest(String),
    #[error("personal access token metadata request failed with status {0}")]
    WhoamiStatus(u16),
    #[error("failed to decode personal access token metadata: {0}")]
    WhoamiDecode(String),
    #[error("failed to request agent identity JWKS: {0}")]
    JwksRequest(String),
    #[error("agent identity JWKS endpoint returned an error: status {0}")]
    JwksStatus(u16),
    #[error("failed to decode agent identity JWKS: {0}")]
    JwksDecode(String),
    #[error(transparent)]
    Jwt(#[from] AgentIdentityJwtError),
}

/// Metadata the whoami endpoint returns for a personal access token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PersonalAccessTokenMetadata {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub chatgpt_user_id: Option<String>,
    #[serde(default)]
    pub chatgpt_account_id: Option<String>,
    #[serde(default)]
    pub chatgpt_plan_type: Option<String>,
    #[serde(default)]
    pub chatgpt_account_is_fedramp: Option<bool>,
}

/// `GET {authapi}/v1/user-auth-credential/whoami` with the token as bearer.
pub fn fetch_personal_access_token_metadata(
    settings: &AuthSettings,
    token: &Secret,
) -> Result<PersonalAccessTokenMetadata, AccessTokenError> {
    let url = format!(
        "{}/v1/user-auth-credential/whoami",
        settings.authapi_base_url()
    );
    let client = HttpClient::new(WHOAMI_TIMEOUT, settings.originator());
    let response = client
        .get(&url, Some(token))
        .map_err(|error| AccessTokenError::WhoamiRequest(error.to_string()))?;
    if !response.is_success() {
        return Err(AccessTokenError::WhoamiStatus(response.status));
    }
    serde_json::from_slice(&response.body).map_err(|error| {
        AccessTokenError::WhoamiDecode(crate::storage::describe_json_error(&error))
    })
}

/// Decode without verification (for an early workspace check).
pub fn decode_agent_identity_unverified(
    token: &Secret,
) -> Result<AgentIdentityClaims, AccessTokenError> {
    Ok(decode_agent_identity_jwt_unverified(token.expose())?)
}

/// Fetch the JWKS for `settings.chatgpt_base_url` and verify `token` against it, now.
pub fn verify_agent_identity(
    settings: &AuthSettings,
    token: &Secret,
) -> Result<AgentIdentityClaims, AccessTokenError> {
    let url = agent_identity_jwks_url(&settings.chatgpt_base_url);
    let client = HttpClient::new(JWKS_TIMEOUT, settings.originator());
    let response = client
        .get(&url, None)
        .map_err(|error| AccessTokenError::JwksRequest(error.to_string()))?;
    if !response.is_success() {
        return Err(AccessTokenError::JwksStatus(response.status));
    }
    let jwks = Jwks::parse(&response.body)
        .map_err(|error| AccessTokenError::JwksDecode(error.to_string()))?;
    let claims = verify_agent_identity_jwt(token.expose(), &jwks, Timestamp::now().unix_seconds())?;
    login_log(format_args!(
        "verified agent identity token for account `{}`",
        claims.account_id
    ));
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_classifier_treats_at_prefix_as_personal_access_token() {
        assert_eq!(
            classify_access_token("at-abc"),
            AccessTokenKind::PersonalAccessToken
        );
        assert_eq!(
            classify_access_token("eyJ.a.b"),
            AccessTokenKind::AgentIdentity
        );
        assert_eq!(
            classify_access_token("AT-abc"),
            AccessTokenKind::AgentIdentity
        );
    }

    #[test]
    fn whoami_metadata_keeps_nullable_fields() {
        let metadata: PersonalAccessTokenMetadata = serde_json::from_str(
            r#"{"email":null,"chatgpt_user_id":"u","chatgpt_account_id":"org","chatgpt_plan_type":"pro","chatgpt_account_is_fedramp":false}"#,
        )
        .unwrap();
        assert_eq!(metadata.email, None);
        assert_eq!(metadata.chatgpt_account_id.as_deref(), Some("org"));
    }
}
