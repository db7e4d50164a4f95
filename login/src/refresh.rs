//! The refresh-token grant and how its failures are classified.

use std::time::Duration;

use serde::Deserialize;

use crate::http::{HttpClient, error_code, error_summary};
use crate::secret::Secret;
use crate::settings::AuthSettings;

const REFRESH_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a refresh token can never work again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermanentRefreshFailure {
    Expired,
    Exhausted,
    Revoked,
    /// A 401 without a known code, an empty stored refresh token, or credentials that changed
    /// account underneath us.
    Other,
    AccountChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshTokenError {
    /// The refresh token is dead: the user must sign in again.
    #[error("{}", permanent_message(*.0))]
    Permanent(PermanentRefreshFailure),
    /// Worth retrying later; nothing was changed.
    #[error("Failed to refresh token: {0}")]
    Transient(String),
    /// The refreshed credentials could not be stored.
    #[error("Failed to refresh token: {0}")]
    Storage(String),
}

fn permanent_message(failure: PermanentRefreshFailure) -> &'static str {
    match failure {
        PermanentRefreshFailure::Expired => {
            "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again."
        }
        PermanentRefreshFailure::Exhausted => {
            "Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again."
        }
        PermanentRefreshFailure::Revoked => {
            "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again."
        }
        PermanentRefreshFailure::Other => {
            "Your access token could not be refreshed. Please log out and sign in again."
        }
        PermanentRefreshFailure::AccountChanged => {
            "Your access token could not be refreshed because you have since logged out or signed in to another account. Please sign in again."
        }
    }
}

/// New token values; each present one replaces the stored one.
#[derive(Deserialize)]
pub(crate) struct RefreshResponse {
    pub(crate) id_token: Option<Secret>,
    pub(crate) access_token: Option<Secret>,
    pub(crate) refresh_token: Option<Secret>,
}

/// `POST` the refresh grant as JSON to the refresh endpoint.
pub(crate) fn request_refresh(
    settings: &AuthSettings,
    refresh_token: &Secret,
) -> Result<RefreshResponse, RefreshTokenError> {
    let client = HttpClient::new(REFRESH_TIMEOUT, settings.originator());
    let body = serde_json::json!({
        "client_id": settings.client_id,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token.expose(),
    });
    let response = client
        .post_json(&settings.refresh_token_url(), &body)
        .map_err(|error| RefreshTokenError::Transient(error.to_string()))?;
    if response.is_success() {
        return serde_json::from_slice(&response.body).map_err(|_| {
            RefreshTokenError::Transient(
                "the token endpoint returned an unreadable response".into(),
            )
        });
    }
    Err(classify_failure(
        response.status,
        &response.body,
        refresh_token,
    ))
}

pub(crate) fn classify_failure(
    status: u16,
    body: &[u8],
    refresh_token: &Secret,
) -> RefreshTokenError {
    let permanent = match error_code(body).as_deref() {
        Some("refresh_token_expired") => Some(PermanentRefreshFailure::Expired),
        Some("refresh_token_reused") => Some(PermanentRefreshFailure::Exhausted),
        Some("refresh_token_invalidated") => Some(PermanentRefreshFailure::Revoked),
        _ if status == 401 => Some(PermanentRefreshFailure::Other),
        _ => None,
    };
    match permanent {
        Some(failure) => RefreshTokenError::Permanent(failure),
        None => {
            let summary = error_summary(body, &[refresh_token]);
            RefreshTokenError::Transient(if summary.is_empty() {
                status.to_string()
            } else {
                format!("{status}: {summary}")
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_permanent_and_transient_failures() {
        let token = Secret::new("rt-1234567");
        let expired = classify_failure(
            401,
            br#"{"error":{"code":"refresh_token_expired"}}"#,
            &token,
        );
        assert_eq!(
            expired,
            RefreshTokenError::Permanent(PermanentRefreshFailure::Expired)
        );
        assert_eq!(
            expired.to_string(),
            "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again."
        );
        let reused = classify_failure(400, br#"{"error":"refresh_token_reused"}"#, &token);
        assert_eq!(
            reused,
            RefreshTokenError::Permanent(PermanentRefreshFailure::Exhausted)
        );
        let revoked = classify_failure(400, br#"{"code":"REFRESH_TOKEN_INVALIDATED"}"#, &token);
        assert_eq!(
            revoked,
            RefreshTokenError::Permanent(PermanentRefreshFailure::Revoked)
        );
        let unauthorized = classify_failure(401, b"nope", &token);
        assert_eq!(
            unauthorized,
            RefreshTokenError::Permanent(PermanentRefreshFailure::Other)
        );
        let server = classify_failure(500, b"oops rt-1234567", &token);
        assert_eq!(
            server.to_string(),
            "Failed to refresh token: 500: oops <redacted>"
        );
    }
}
