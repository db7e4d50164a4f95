//! Device-code login: get a user code, let the user enter it in a browser anywhere, poll for the
//! authorization code, then exchange and persist like the browser flow.

use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};

use crate::http::{HttpClient, error_summary};
use crate::manager::AuthManager;
use crate::oauth::{FinishLoginError, exchange_code, finish_login};
use crate::secret::Secret;

const DEVICE_AUTH_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_INTERVAL: u64 = 5;
/// The poll interval the server asks for is kept within these bounds (seconds): `0` must not
/// turn the poll into a busy loop, and a huge value must not outlast the 15-minute limit.
const MIN_INTERVAL: u64 = 1;
const MAX_INTERVAL: u64 = 60;

/// What the user must do, shown by the caller.
#[derive(Debug, Clone)]
pub struct DeviceCodePrompt {
    pub verification_url: String,
    pub user_code: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceCodeError {
    #[error(
        "device code login is not enabled for this Codex server. Use the browser login or verify the server URL."
    )]
    NotEnabled,
    #[error("device code request failed: {0}")]
    Request(String),
    #[error("device code request failed with status {0}")]
    UserCodeStatus(u16),
    #[error("device code response is not valid: {0}")]
    UserCodeResponse(String),
    #[error("device auth failed with status {status}: {summary}")]
    PollStatus { status: u16, summary: String },
    #[error("device auth timed out after 15 minutes")]
    TimedOut,
    #[error("Token exchange failed: {0}")]
    Exchange(#[from] crate::oauth::TokenExchangeError),
    #[error(transparent)]
    Finish(#[from] FinishLoginError),
    /// Stored credentials could not be read; they were left in place and the login not started.
    #[error(transparent)]
    StoredCredentials(crate::storage::AuthStoreError),
}

impl DeviceCodeError {
    /// The policy refused the account (upstream's PermissionDenied).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, DeviceCodeError::Finish(FinishLoginError::Policy(_)))
    }
}

#[derive(Deserialize)]
struct UserCodeResponse {
    device_auth_id: Secret,
    #[serde(alias = "usercode")]
    user_code: String,
    #[serde(default, deserialize_with = "interval_seconds")]
    interval: Option<u64>,
}

/// `interval` as a number or a (trimmed) string.
fn interval_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(serde_json::Value::Number(number)) => number.as_u64(),
        Some(serde_json::Value::String(text)) => text.trim().parse().ok(),
        _ => None,
    })
}

/// The server's interval (default 5 s), clamped to 1–60 s.
fn poll_interval(requested: Option<u64>) -> Duration {
    Duration::from_secs(
        requested
            .unwrap_or(DEFAULT_INTERVAL)
            .clamp(MIN_INTERVAL, MAX_INTERVAL),
    )
}

#[derive(Deserialize)]
struct CodeResponse {
    authorization_code: Secret,
    code_verifier: Secret,
}

impl AuthManager {
    /// Run the device-code login. `on_prompt` shows the verification URL and user code.
    /// Stored credentials are cleared first (revoking them); stored credentials that cannot be
    /// read stop the login instead.
    pub fn login_with_device_code(
        &self,
        on_prompt: impl FnOnce(&DeviceCodePrompt),
    ) -> Result<(), DeviceCodeError> {
        self.clear_before_login()
            .map_err(DeviceCodeError::StoredCredentials)?;
        let issuer = self.settings.issuer().to_string();
        let client = HttpClient::new(REQUEST_TIMEOUT, self.settings.originator());
        let response = client
            .post_json(
                &format!("{issuer}/api/accounts/deviceauth/usercode"),
                &serde_json::json!({"client_id": self.settings.client_id}),
            )
            .map_err(|error| DeviceCodeError::Request(error.to_string()))?;
        match response.status {
            404 => return Err(DeviceCodeError::NotEnabled),
            status if !response.is_success() => {
                return Err(DeviceCodeError::UserCodeStatus(status));
            }
            _ => {}
        }
        let user_code: UserCodeResponse =
            serde_json::from_slice(&response.body).map_err(|error| {
                DeviceCodeError::UserCodeResponse(crate::storage::describe_json_error(&error))
            })?;
        let interval = poll_interval(user_code.interval);
        on_prompt(&DeviceCodePrompt {
            verification_url: format!("{issuer}/codex/device"),
            // Printed on the terminal: filtered like any other text from a server.
            user_code: crate::http::printable(&user_code.user_code),
        });

        let deadline = Instant::now() + DEVICE_AUTH_TIMEOUT;
        let poll_url = format!("{issuer}/api/accounts/deviceauth/token");
        let poll_body = serde_json::json!({
            "device_auth_id": user_code.device_auth_id.expose(),
            "user_code": user_code.user_code,
        });
        let code = loop {
            let response = client
                .post_json(&poll_url, &poll_body)
                .map_err(|error| DeviceCodeError::Request(error.to_string()))?;
            if response.is_success() {
                break serde_json::from_slice::<CodeResponse>(&response.body).map_err(|error| {
                    DeviceCodeError::UserCodeResponse(crate::storage::describe_json_error(&error))
                })?;
            }
            if !matches!(response.status, 403 | 404) {
                return Err(DeviceCodeError::PollStatus {
                    status: response.status,
                    summary: error_summary(&response.body, &[&user_code.device_auth_id]),
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DeviceCodeError::TimedOut);
            }
            std::thread::sleep(interval.min(deadline - now));
        };
        let redirect_uri = format!("{issuer}/deviceauth/callback");
        let tokens = exchange_code(
            self,
            &redirect_uri,
            &code.authorization_code,
            &code.code_verifier,
        )?;
        finish_login(self, tokens)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_may_be_a_number_or_a_string() {
        let parse = |text: &str| {
            serde_json::from_str::<UserCodeResponse>(text)
                .unwrap()
                .interval
        };
        assert_eq!(
            parse(r#"{"device_auth_id":"d","user_code":"U","interval":"0"}"#),
            Some(0)
        );
        assert_eq!(
            parse(r#"{"device_auth_id":"d","usercode":"U","interval":" 7 "}"#),
            Some(7)
        );
        assert_eq!(
            parse(r#"{"device_auth_id":"d","user_code":"U","interval":3}"#),
            Some(3)
        );
        assert_eq!(parse(r#"{"device_auth_id":"d","user_code":"U"}"#), None);
    }

    #[test]
    fn poll_interval_is_clamped_to_one_to_sixty_seconds() {
        assert_eq!(poll_interval(Some(0)), Duration::from_secs(1));
        assert_eq!(poll_interval(Some(7)), Duration::from_secs(7));
        assert_eq!(poll_interval(Some(3600)), Duration::from_secs(60));
        assert_eq!(poll_interval(None), Duration::from_secs(5));
    }

    /// Regression: `"interval": "0"` made the token poll a busy loop against the server.
    #[test]
    fn device_code_interval_zero_spins() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        use crate::settings::{AuthEnvironment, AuthSettings};
        use crate::test_http::TestServer;

        let polls = AtomicUsize::new(0);
        let issuer = TestServer::start(move |request| match request.path.as_str() {
            "/api/accounts/deviceauth/usercode" => (
                200,
                r#"{"device_auth_id":"d","user_code":"U\u001b[2J","interval":"0"}"#.to_string(),
            ),
            _ if polls.fetch_add(1, Ordering::SeqCst) < 2 => (403, String::new()),
            _ => (500, r#"{"error":"stop"}"#.to_string()),
        });
        let home = tempfile::tempdir().unwrap();
        let mut settings = AuthSettings::new(home.path().to_path_buf(), AuthEnvironment::default());
        settings.issuer = issuer.url.clone();
        let mut shown = String::new();
        let error = AuthManager::new(settings)
            .login_with_device_code(|prompt| shown = prompt.user_code.clone())
            .unwrap_err();
        assert_eq!(shown, "U [2J");
        assert!(
            matches!(error, DeviceCodeError::PollStatus { status: 500, .. }),
            "{error:?}"
        );
        let polls = issuer.requests("/api/accounts/deviceauth/token");
        assert_eq!(polls.len(), 3);
        for pair in polls.windows(2) {
            let gap = pair[1].at.duration_since(pair[0].at);
            assert!(gap >= Duration::from_millis(950), "{gap:?}");
        }
    }
}
