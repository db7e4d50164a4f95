//! Revoking ChatGPT tokens at logout (best effort, bounded by a timeout).

use std::time::Duration;

use crate::auth_file::TokenData;
use crate::http::{HttpClient, error_summary};
use crate::settings::AuthSettings;

const REVOKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, thiserror::Error)]
pub enum RevokeTokenError {
    #[error("failed to revoke token: {0}")]
    Request(String),
    #[error("token revocation failed with status {status}: {summary}")]
    Status { status: u16, summary: String },
}

/// Revoke the refresh token, or the access token when the refresh token is empty.
pub(crate) fn revoke_tokens(
    settings: &AuthSettings,
    tokens: &TokenData,
) -> Result<(), RevokeTokenError> {
    let body = if tokens.refresh_token.is_empty() {
        serde_json::json!({
            "token": tokens.access_token.expose(),
            "token_type_hint": "access_token",
        })
    } else {
        serde_json::json!({
            "token": tokens.refresh_token.expose(),
            "token_type_hint": "refresh_token",
            "client_id": settings.client_id,
        })
    };
    let client = HttpClient::new(REVOKE_TIMEOUT, settings.originator());
    let response = client
        .post_json(&settings.revoke_token_url(), &body)
        .map_err(|error| RevokeTokenError::Request(error.to_string()))?;
    if response.is_success() {
        return Ok(());
    }
    Err(RevokeTokenError::Status {
        status: response.status,
        summary: error_summary(
            &response.body,
            &[
                &tokens.refresh_token,
                &tokens.access_token,
                &tokens.id_token,
            ],
        ),
    })
}
