//! Claims read (without signature verification) from ChatGPT id_tokens and access tokens.

use codex_agent_identity::{PlanType, RawJwt};
use serde::Deserialize;

use crate::http::printable;

/// Why a ChatGPT token's claims could not be read. Never includes token text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenClaimsError {
    #[error("invalid ID token format")]
    Format,
    #[error("the token payload is not valid base64url")]
    Encoding,
    #[error("the token payload is not valid JSON")]
    Json,
}

/// What the CLI uses from an id_token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdTokenInfo {
    pub email: Option<String>,
    pub chatgpt_plan_type: Option<PlanType>,
    pub chatgpt_user_id: Option<String>,
    /// The workspace / account id (`chatgpt_account_id`).
    pub chatgpt_account_id: Option<String>,
    pub chatgpt_account_is_fedramp: bool,
    pub organization_id: Option<String>,
    pub project_id: Option<String>,
    pub completed_platform_onboarding: bool,
    pub is_org_owner: bool,
    /// Standard `exp` claim, seconds since the epoch.
    pub expires_at: Option<i64>,
}

#[derive(Deserialize)]
struct Claims {
    email: Option<String>,
    exp: Option<serde_json::Number>,
    #[serde(rename = "https://api.openai.com/profile")]
    profile: Option<ProfileClaims>,
    #[serde(rename = "https://api.openai.com/auth")]
    auth: Option<AuthClaims>,
}

#[derive(Deserialize)]
struct ProfileClaims {
    email: Option<String>,
}

#[derive(Deserialize)]
struct AuthClaims {
    chatgpt_plan_type: Option<String>,
    chatgpt_user_id: Option<String>,
    user_id: Option<String>,
    chatgpt_account_id: Option<String>,
    chatgpt_account_is_fedramp: Option<bool>,
    chatgpt_account_routing_cookies: Option<serde_json::Map<String, serde_json::Value>>,
    organization_id: Option<String>,
    project_id: Option<String>,
    completed_platform_onboarding: Option<bool>,
    is_org_owner: Option<bool>,
}

/// Read the claims of a ChatGPT JWT (id_token or access token).
pub fn parse_chatgpt_jwt_claims(token: &str) -> Result<IdTokenInfo, TokenClaimsError> {
    let jwt = RawJwt::parse(token).map_err(|error| match error {
        codex_agent_identity::JwtFormatError::PayloadEncoding => TokenClaimsError::Encoding,
        _ => TokenClaimsError::Format,
    })?;
    let claims: Claims =
        serde_json::from_slice(&jwt.payload).map_err(|_| TokenClaimsError::Json)?;
    let email = claims
        .email
        .or_else(|| claims.profile.and_then(|profile| profile.email));
    let expires_at = claims.exp.and_then(|exp| {
        exp.as_i64()
            .or_else(|| exp.as_f64().map(|value| value as i64))
    });
    let mut info = IdTokenInfo {
        email,
        expires_at,
        ..IdTokenInfo::default()
    };
    if let Some(auth) = claims.auth {
        let fedramp_cookie = auth
            .chatgpt_account_routing_cookies
            .as_ref()
            .and_then(|cookies| cookies.get("_account_is_fedramp"))
            .and_then(serde_json::Value::as_str)
            .filter(|value| is_clean_cookie_value(value))
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        info.chatgpt_plan_type = auth.chatgpt_plan_type.as_deref().map(PlanType::from_raw);
        info.chatgpt_user_id = auth.chatgpt_user_id.or(auth.user_id);
        info.chatgpt_account_id = auth.chatgpt_account_id;
        info.chatgpt_account_is_fedramp =
            auth.chatgpt_account_is_fedramp.unwrap_or(false) || fedramp_cookie;
        info.organization_id = auth.organization_id;
        info.project_id = auth.project_id;
        info.completed_platform_onboarding = auth.completed_platform_onboarding.unwrap_or(false);
        info.is_org_owner = auth.is_org_owner.unwrap_or(false);
    }
    Ok(info)
}

fn is_clean_cookie_value(value: &str) -> bool {
    !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_control() || c == ';' || c == ',')
}

impl IdTokenInfo {
    /// A non-blank `chatgpt_account_id`.
    pub fn account_id(&self) -> Option<&str> {
        self.chatgpt_account_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())
    }

    /// Who a login signed in as, for the terminal:
    /// `` `user@example.com` (workspace `org_1`, plan `pro`) ``. The values come from a token
    /// and are filtered for the terminal; missing ones are left out.
    pub fn account_summary(&self) -> String {
        let who = match self
            .email
            .as_deref()
            .map(printable)
            .filter(|e| !e.is_empty())
        {
            Some(email) => format!("`{email}`"),
            None => "an account without an email address".to_string(),
        };
        let mut details = Vec::new();
        if let Some(workspace) = self.account_id() {
            details.push(format!("workspace `{}`", printable(workspace)));
        }
        if let Some(plan) = &self.chatgpt_plan_type {
            details.push(format!("plan `{}`", printable(plan.as_str())));
        }
        if details.is_empty() {
            who
        } else {
            format!("{who} ({})", details.join(", "))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use codex_agent_identity::base64url_encode;

    use super::*;

    /// An unsigned JWT with `claims` as payload (tests only).
    pub(crate) fn unsigned_jwt(claims: serde_json::Value) -> String {
        format!(
            "{}.{}.c2ln",
            base64url_encode(br#"{"alg":"none"}"#),
            base64url_encode(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn id_token_info_parses_email_and_plan() {
        let token = unsigned_jwt(serde_json::json!({
            "email": "user@example.com",
            "exp": 1_700_000_000,
            "https://api.openai.com/auth": {
                "chatgpt_plan_type": "pro", "user_id": "user-1",
                "chatgpt_account_id": "org_1", "is_org_owner": true
            }
        }));
        let info = parse_chatgpt_jwt_claims(&token).unwrap();
        assert_eq!(info.email.as_deref(), Some("user@example.com"));
        assert_eq!(info.chatgpt_plan_type, Some(PlanType::Pro));
        assert_eq!(info.chatgpt_user_id.as_deref(), Some("user-1"));
        assert_eq!(info.account_id(), Some("org_1"));
        assert_eq!(info.expires_at, Some(1_700_000_000));
        assert!(info.is_org_owner && !info.completed_platform_onboarding);
    }

    #[test]
    fn email_falls_back_to_profile_and_plan_may_be_missing() {
        let token = unsigned_jwt(serde_json::json!({
            "https://api.openai.com/profile": {"email": "p@example.com"},
            "https://api.openai.com/auth": {
                "chatgpt_account_id": "  ",
                "chatgpt_account_routing_cookies": {"_account_is_fedramp": "true"}
            }
        }));
        let info = parse_chatgpt_jwt_claims(&token).unwrap();
        assert_eq!(info.email.as_deref(), Some("p@example.com"));
        assert_eq!(info.chatgpt_plan_type, None);
        assert_eq!(info.account_id(), None);
        assert!(info.chatgpt_account_is_fedramp);
    }

    #[test]
    fn account_summary_names_email_workspace_and_plan_safely() {
        let token = unsigned_jwt(serde_json::json!({
            "email": "user@example.com",
            "https://api.openai.com/auth": {"chatgpt_plan_type": "pro", "chatgpt_account_id": "org_1"}
        }));
        let info = parse_chatgpt_jwt_claims(&token).unwrap();
        assert_eq!(
            info.account_summary(),
            "`user@example.com` (workspace `org_1`, plan `pro`)"
        );
        let forged = IdTokenInfo {
            email: Some("evil\u{1b}[2J@example.com".to_string()),
            ..IdTokenInfo::default()
        };
        assert_eq!(forged.account_summary(), "`evil [2J@example.com`");
        assert_eq!(
            IdTokenInfo::default().account_summary(),
            "an account without an email address"
        );
    }

    #[test]
    fn malformed_tokens_are_errors() {
        assert_eq!(
            parse_chatgpt_jwt_claims("abc"),
            Err(TokenClaimsError::Format)
        );
        assert_eq!(
            parse_chatgpt_jwt_claims("e30.!!.c2ln"),
            Err(TokenClaimsError::Encoding)
        );
        assert_eq!(
            parse_chatgpt_jwt_claims("e30.bm9w.c2ln"),
            Err(TokenClaimsError::Json)
        );
    }
}
