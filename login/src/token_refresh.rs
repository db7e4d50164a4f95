//! When and how stored ChatGPT tokens are refreshed: proactively from the access token's `exp`
//! (5 minutes early; the 8-day `last_refresh` rule only without `exp`), under the credential
//! lock, adopting tokens another process already stored, and blanking the refresh token after a
//! permanent failure.

use std::time::Duration;

use crate::auth_file::{AuthDotJson, AuthMode, TokenData};
use crate::log::login_log;
use crate::manager::{AuthManager, RefreshOutcome};
use crate::refresh::{PermanentRefreshFailure, RefreshTokenError, request_refresh};
use crate::secret::Secret;
use crate::time::Timestamp;
use crate::token_data::parse_chatgpt_jwt_claims;

const EARLY_REFRESH_SECONDS: i64 = 5 * 60;
const STALE_AFTER: Duration = Duration::from_secs(8 * 24 * 60 * 60);

/// Whether stored tokens should be refreshed at `now`.
pub(crate) fn refresh_is_due(
    tokens: &TokenData,
    last_refresh: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    let expires_at = parse_chatgpt_jwt_claims(tokens.access_token.expose())
        .ok()
        .and_then(|claims| claims.expires_at);
    match expires_at {
        Some(exp) => now.unix_seconds() >= exp.saturating_sub(EARLY_REFRESH_SECONDS),
        None => last_refresh.is_none_or(|last| last < now.minus(STALE_AFTER)),
    }
}

fn chatgpt_tokens(document: &AuthDotJson) -> Option<&TokenData> {
    match document.effective_mode() {
        AuthMode::Chatgpt => document.tokens.as_ref(),
        _ => None,
    }
}

fn storage_error(error: impl std::fmt::Display) -> RefreshTokenError {
    RefreshTokenError::Storage(error.to_string())
}

impl AuthManager {
    /// Refresh the stored ChatGPT tokens if they are due.
    pub fn refresh_if_due(&self) -> Result<RefreshOutcome, RefreshTokenError> {
        let Some(snapshot) = self.store.load().map_err(storage_error)? else {
            return Ok(RefreshOutcome::NotNeeded);
        };
        let Some(tokens) = chatgpt_tokens(&snapshot) else {
            return Ok(RefreshOutcome::NotNeeded);
        };
        if !refresh_is_due(tokens, snapshot.last_refresh, Timestamp::now()) {
            return Ok(RefreshOutcome::NotNeeded);
        }
        self.refresh_snapshot(&snapshot)
    }

    /// Refresh now (after a 401), relative to the tokens this process is using (`snapshot`).
    /// If the store already holds different tokens for the same account they are adopted
    /// without a network call; a different account is a permanent failure.
    pub fn refresh_snapshot(
        &self,
        snapshot: &AuthDotJson,
    ) -> Result<RefreshOutcome, RefreshTokenError> {
        let Some(used) = chatgpt_tokens(snapshot) else {
            return Err(RefreshTokenError::Permanent(PermanentRefreshFailure::Other));
        };
        let lock = self.store.lock().map_err(storage_error)?;
        let current = self.store.load().map_err(storage_error)?;
        let Some(mut current) = current else {
            return Err(RefreshTokenError::Permanent(
                PermanentRefreshFailure::AccountChanged,
            ));
        };
        let Some(stored) = chatgpt_tokens(&current).cloned() else {
            return Err(RefreshTokenError::Permanent(
                PermanentRefreshFailure::AccountChanged,
            ));
        };
        if stored.account_id != used.account_id {
            return Err(RefreshTokenError::Permanent(
                PermanentRefreshFailure::AccountChanged,
            ));
        }
        if stored != *used {
            login_log(format_args!("adopting tokens refreshed by another process"));
            return Ok(RefreshOutcome::ReloadedFromStore);
        }
        if stored.refresh_token.is_empty() {
            return Err(RefreshTokenError::Permanent(PermanentRefreshFailure::Other));
        }
        match request_refresh(&self.settings, &stored.refresh_token) {
            Ok(response) => {
                let mut tokens = stored;
                if let Some(id_token) = response.id_token {
                    tokens.id_token = id_token;
                }
                if let Some(access_token) = response.access_token {
                    tokens.access_token = access_token;
                }
                if let Some(refresh_token) = response.refresh_token {
                    tokens.refresh_token = refresh_token;
                }
                sync_account_id(&mut tokens);
                current.tokens = Some(tokens);
                current.last_refresh = Some(Timestamp::now());
                self.store.save(&current, &lock).map_err(storage_error)?;
                login_log(format_args!("refreshed ChatGPT tokens"));
                Ok(RefreshOutcome::Refreshed)
            }
            Err(error @ RefreshTokenError::Permanent(_)) => {
                login_log(format_args!("refresh failed permanently: {error}"));
                if let Some(tokens) = current.tokens.as_mut() {
                    tokens.refresh_token = Secret::new("");
                }
                if let Err(save_error) = self.store.save(&current, &lock) {
                    login_log(format_args!(
                        "could not blank the refresh token: {save_error}"
                    ));
                }
                Err(error)
            }
            Err(error) => {
                login_log(format_args!("refresh failed: {error}"));
                Err(error)
            }
        }
    }
}

/// `account_id` follows the id_token's `chatgpt_account_id` when it has a non-blank one.
pub(crate) fn sync_account_id(tokens: &mut TokenData) {
    if let Some(account_id) = parse_chatgpt_jwt_claims(tokens.id_token.expose())
        .ok()
        .and_then(|claims| claims.account_id().map(str::to_string))
    {
        tokens.account_id = Some(account_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_data::tests::unsigned_jwt;

    fn tokens(access_claims: serde_json::Value) -> TokenData {
        TokenData {
            id_token: Secret::new(unsigned_jwt(serde_json::json!({}))),
            access_token: Secret::new(unsigned_jwt(access_claims)),
            refresh_token: Secret::new("rt"),
            account_id: None,
        }
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn returns_fresh_tokens_as_is() {
        let fresh = tokens(serde_json::json!({"exp": NOW + 3600}));
        let nine_days_ago = Timestamp::from_unix_seconds(NOW - 9 * 86_400);
        assert!(!refresh_is_due(
            &fresh,
            Some(nine_days_ago),
            Timestamp::from_unix_seconds(NOW)
        ));
    }

    #[test]
    fn refreshes_token_when_access_token_is_expired_or_about_to() {
        let now = Timestamp::from_unix_seconds(NOW);
        assert!(refresh_is_due(
            &tokens(serde_json::json!({"exp": NOW - 1})),
            Some(now),
            now
        ));
        assert!(refresh_is_due(
            &tokens(serde_json::json!({"exp": NOW + 299})),
            Some(now),
            now
        ));
        assert!(!refresh_is_due(
            &tokens(serde_json::json!({"exp": NOW + 301})),
            Some(now),
            now
        ));
    }

    #[test]
    fn eight_day_rule_applies_only_without_exp() {
        let now = Timestamp::from_unix_seconds(NOW);
        let no_exp = tokens(serde_json::json!({}));
        let seven_days_ago = Timestamp::from_unix_seconds(NOW - 7 * 86_400);
        let nine_days_ago = Timestamp::from_unix_seconds(NOW - 9 * 86_400);
        assert!(!refresh_is_due(&no_exp, Some(seven_days_ago), now));
        assert!(refresh_is_due(&no_exp, Some(nine_days_ago), now));
        assert!(refresh_is_due(&no_exp, None, now));
    }

    #[test]
    fn refresh_without_id_token_keeps_the_account_id() {
        let mut kept = tokens(serde_json::json!({}));
        kept.account_id = Some("org_old".into());
        sync_account_id(&mut kept);
        assert_eq!(kept.account_id.as_deref(), Some("org_old"));
        kept.id_token = Secret::new(unsigned_jwt(serde_json::json!({
            "https://api.openai.com/auth": {"chatgpt_account_id": "org_new"}
        })));
        sync_account_id(&mut kept);
        assert_eq!(kept.account_id.as_deref(), Some("org_new"));
    }
}
