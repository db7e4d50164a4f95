//! Access tokens: personal access tokens (`at-…`, described by the whoami endpoint) and
//! agent-identity JWTs (verified against the JWKS derived from `chatgpt_base_url`).

use std::time::Duration;

use codex_agent_identity::{
    AgentIdentityClaims, AgentIdentityJwtError, Jwks, agent_identity_jwks_url,
    precheck_agent_identity_jwt, verify_agent_identity_jwt,
};
use serde::Deserialize;

use crate::http::HttpClient;
use crate::log::login_log;
use crate::secret::Secret;
use crate::settings::AuthSettings;
use crate::time::Timestamp;

const JWKS_TIMEOUT: Duration = Duration::from_secs(10);
const WHOAMI_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest personal access token accepted.
const MAX_PERSONAL_ACCESS_TOKEN_BYTES: usize = 4 * 1024;

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

/// An access token was refused, locally or by the server. The texts never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum AccessTokenError {
    #[error(
        "the personal access token is malformed: after `at-` it needs 1 to {MAX_PERSONAL_ACCESS_TOKEN_BYTES} printable ASCII characters without spaces"
    )]
    MalformedPersonalAccessToken,
    #[error("failed to request personal access token metadata: {0}")]
    WhoamiRequest(String),
    #[error("personal access token metadata request failed with status {0}")]
    WhoamiStatus(u16),
    #[error("failed to decode personal access token metadata: {0}")]
    WhoamiDecode(String),
    #[error("failed to fetch the access-token signing keys (JWKS) from `{url}`: {error}")]
    JwksRequest { url: String, error: String },
    #[error("the access-token signing keys (JWKS) endpoint `{url}` returned status {status}")]
    JwksStatus { url: String, status: u16 },
    #[error("failed to decode the access-token signing keys (JWKS) from `{url}`: {error}")]
    JwksDecode { url: String, error: String },
    #[error(transparent)]
    Jwt(#[from] AgentIdentityJwtError),
}

impl AccessTokenError {
    /// The token itself was refused (malformed, expired, wrong issuer…), not the network or
    /// the server: a new token is what fixes it.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            AccessTokenError::MalformedPersonalAccessToken | AccessTokenError::Jwt(_)
        )
    }
}

/// The checks that need no network: a personal access token's characters, or everything about
/// a JWT but its signature (shape, header, claims, issuer, audience, expiry). Run before any
/// request so a malformed or expired token fails at once, without a DNS lookup.
pub fn precheck_access_token(token: &Secret) -> Result<AccessTokenKind, AccessTokenError> {
    let text = token.expose();
    let kind = classify_access_token(text);
    match kind {
        AccessTokenKind::PersonalAccessToken => {
            let rest = &text["at-".len()..];
            if rest.is_empty()
                || text.len() > MAX_PERSONAL_ACCESS_TOKEN_BYTES
                || !rest.bytes().all(|byte| byte.is_ascii_graphic())
            {
                return Err(AccessTokenError::MalformedPersonalAccessToken);
            }
        }
        AccessTokenKind::AgentIdentity => {
            precheck_agent_identity_jwt(text, Timestamp::now().unix_seconds())?;
        }
    }
    Ok(kind)
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

/// Check `token` locally, then `GET {authapi}/v1/user-auth-credential/whoami` with the token
/// as bearer.
pub fn fetch_personal_access_token_metadata(
    settings: &AuthSettings,
    token: &Secret,
) -> Result<PersonalAccessTokenMetadata, AccessTokenError> {
    precheck_access_token(token)?;
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

/// Everything but the signature, without a network request (for an early workspace check).
pub fn precheck_agent_identity(token: &Secret) -> Result<AgentIdentityClaims, AccessTokenError> {
    Ok(precheck_agent_identity_jwt(
        token.expose(),
        Timestamp::now().unix_seconds(),
    )?)
}

/// Check `token` locally, then fetch the JWKS for `settings.chatgpt_base_url` and verify
/// `token` against it, now.
pub fn verify_agent_identity(
    settings: &AuthSettings,
    token: &Secret,
) -> Result<AgentIdentityClaims, AccessTokenError> {
    precheck_agent_identity(token)?;
    let url = agent_identity_jwks_url(&settings.chatgpt_base_url);
    let client = HttpClient::new(JWKS_TIMEOUT, settings.originator());
    let response = client
        .get(&url, None)
        .map_err(|error| AccessTokenError::JwksRequest {
            url: url.clone(),
            error: error.to_string(),
        })?;
    if !response.is_success() {
        return Err(AccessTokenError::JwksStatus {
            url,
            status: response.status,
        });
    }
    let jwks = Jwks::parse(&response.body).map_err(|error| AccessTokenError::JwksDecode {
        url: url.clone(),
        error: error.to_string(),
    })?;
    let claims = verify_agent_identity_jwt(token.expose(), &jwks, Timestamp::now().unix_seconds())?;
    login_log(format_args!(
        "verified the access token for account `{}`",
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
    fn precheck_refuses_malformed_tokens_without_a_request() {
        for token in ["garbage", "at-", "at-a b", "at-\u{1b}[31m", "a.b", ""] {
            let error = precheck_access_token(&Secret::new(token)).unwrap_err();
            assert!(
                matches!(
                    error,
                    AccessTokenError::MalformedPersonalAccessToken
                        | AccessTokenError::Jwt(AgentIdentityJwtError::Format)
                ),
                "{token:?}: {error}"
            );
            assert!(token.len() < 4 || !error.to_string().contains(token));
        }
        assert_eq!(
            precheck_access_token(&Secret::new("at-abc_DEF-123")).unwrap(),
            AccessTokenKind::PersonalAccessToken
        );
        let long = format!("at-{}", "x".repeat(MAX_PERSONAL_ACCESS_TOKEN_BYTES));
        assert!(precheck_access_token(&Secret::new(long)).is_err());
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
