//! Device-code login: get a user code, let the user enter it in a browser anywhere, poll for the
//! authorization code, then exchange and persist like the browser flow.

use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};

use crate::http::{HttpClient, error_summary};
use crate::log::login_log;
use crate::manager::AuthManager;
use crate::oauth::{FinishLoginError, exchange_code, finish_login};
use crate::secret::Secret;

const DEVICE_AUTH_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_INTERVAL: u64 = 5;

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

#[derive(Deserialize)]
struct CodeResponse {
    authorization_code: Secret,
    code_verifier: Secret,
}

impl AuthManager {
    /// Run the device-code login. `on_prompt` shows the verification URL and user code.
    pub fn login_with_device_code(
        &self,
        on_prompt: impl FnOnce(&DeviceCodePrompt),
    ) -> Result<(), DeviceCodeError> {
        if let Err(error) = self.logout() {
            login_log(format_args!(
                "clearing credentials before login failed: {error}"
            ));
        }
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
        let interval = Duration::from_secs(user_code.interval.unwrap_or(DEFAULT_INTERVAL));
        on_prompt(&DeviceCodePrompt {
            verification_url: format!("{issuer}/codex/device"),
            user_code: user_code.user_code.clone(),
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
}
