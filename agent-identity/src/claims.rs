//! The agent-identity claim set carried by an access-token JWT.

use serde::{Deserialize, Deserializer};

use crate::plan::PlanType;

/// Claims of an agent-identity JWT. Every field is required. `agent_private_key` is a secret
/// (base64 PKCS#8 of an Ed25519 key), so `Debug` never prints it.
#[derive(Clone, Deserialize)]
pub struct AgentIdentityClaims {
    pub iss: String,
    pub aud: Audience,
    #[serde(deserialize_with = "seconds")]
    pub iat: i64,
    #[serde(deserialize_with = "seconds")]
    pub exp: i64,
    pub agent_runtime_id: String,
    pub agent_private_key: String,
    pub account_id: String,
    pub chatgpt_user_id: String,
    pub email: String,
    pub plan_type: PlanType,
    pub chatgpt_account_is_fedramp: bool,
}

impl std::fmt::Debug for AgentIdentityClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentIdentityClaims")
            .field("iss", &self.iss)
            .field("aud", &self.aud)
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .field("agent_runtime_id", &self.agent_runtime_id)
            .field("agent_private_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("chatgpt_user_id", &self.chatgpt_user_id)
            .field("email", &self.email)
            .field("plan_type", &self.plan_type)
            .field(
                "chatgpt_account_is_fedramp",
                &self.chatgpt_account_is_fedramp,
            )
            .finish()
    }
}

/// The `aud` claim: one string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(value) => value == audience,
            Audience::Many(values) => values.iter().any(|value| value == audience),
        }
    }
}

/// A NumericDate: JSON integers and (truncated) floats are both accepted.
fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(value) = number.as_i64() {
        return Ok(value);
    }
    match number.as_f64() {
        Some(value) if value.is_finite() && value.abs() < 1e15 => Ok(value.trunc() as i64),
        _ => Err(serde::de::Error::custom(
            "a NumericDate must be a number of seconds",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_json(aud: serde_json::Value, exp: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "iss": "issuer", "aud": aud, "iat": 1, "exp": exp,
            "agent_runtime_id": "runtime-1", "agent_private_key": "super-secret-key",
            "account_id": "acct", "chatgpt_user_id": "user", "email": "a@example.com",
            "plan_type": "hc", "chatgpt_account_is_fedramp": false
        })
    }

    #[test]
    fn reads_claims_and_redacts_the_private_key_in_debug() {
        let claims: AgentIdentityClaims =
            serde_json::from_value(claims_json(serde_json::json!("aud"), 1.5e9.into())).unwrap();
        assert_eq!(claims.exp, 1_500_000_000);
        assert_eq!(claims.plan_type, PlanType::Enterprise);
        let debug = format!("{claims:?}");
        assert!(!debug.contains("super-secret-key"), "{debug}");
        assert!(debug.contains("runtime-1"));
    }

    #[test]
    fn audience_may_be_a_list() {
        let claims: AgentIdentityClaims =
            serde_json::from_value(claims_json(serde_json::json!(["x", "y"]), 5.into())).unwrap();
        assert!(claims.aud.contains("y"));
        assert!(!claims.aud.contains("z"));
    }

    #[test]
    fn every_claim_is_required() {
        let mut value = claims_json(serde_json::json!("aud"), 5.into());
        value.as_object_mut().unwrap().remove("iss");
        assert!(serde_json::from_value::<AgentIdentityClaims>(value).is_err());
    }
}
