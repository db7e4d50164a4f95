//! The `auth.json` document (also the keyring value), readable by upstream and vice versa.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::Secret;
use crate::time::Timestamp;

/// `auth_mode` values (camel case on the wire; `apiKey`/`api_key` are read as `apikey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    ApiKey,
    Chatgpt,
    ChatgptAuthTokens,
    AgentIdentity,
    PersonalAccessToken,
    BedrockApiKey,
    BedrockAccessKeys,
    Headers,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "apikey",
            AuthMode::Chatgpt => "chatgpt",
            AuthMode::ChatgptAuthTokens => "chatgptAuthTokens",
            AuthMode::AgentIdentity => "agentIdentity",
            AuthMode::PersonalAccessToken => "personalAccessToken",
            AuthMode::BedrockApiKey => "bedrockApiKey",
            AuthMode::BedrockAccessKeys => "bedrockAccessKeys",
            AuthMode::Headers => "headers",
        }
    }

    fn from_wire(text: &str) -> Option<AuthMode> {
        Some(match text {
            "apikey" | "apiKey" | "api_key" => AuthMode::ApiKey,
            "chatgpt" => AuthMode::Chatgpt,
            "chatgptAuthTokens" => AuthMode::ChatgptAuthTokens,
            "agentIdentity" => AuthMode::AgentIdentity,
            "personalAccessToken" => AuthMode::PersonalAccessToken,
            "bedrockApiKey" => AuthMode::BedrockApiKey,
            "bedrockAccessKeys" => AuthMode::BedrockAccessKeys,
            "headers" => AuthMode::Headers,
            _ => return None,
        })
    }
}

impl Serialize for AuthMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AuthMode::from_wire(&text).ok_or_else(|| serde::de::Error::custom("unknown auth_mode"))
    }
}

/// ChatGPT OAuth tokens. `id_token` is the raw JWT string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenData {
    pub id_token: Secret,
    pub access_token: Secret,
    pub refresh_token: Secret,
    #[serde(default)]
    pub account_id: Option<String>,
}

/// `agent_identity`: the raw JWT (what `login --with-access-token` writes) or a record object
/// written by other clients, kept as is.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredAgentIdentity {
    Jwt(Secret),
    Record(serde_json::Map<String, serde_json::Value>),
}

impl std::fmt::Debug for StoredAgentIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoredAgentIdentity::Jwt(_) => f.write_str("Jwt(<redacted>)"),
            StoredAgentIdentity::Record(_) => f.write_str("Record(<redacted>)"),
        }
    }
}

impl StoredAgentIdentity {
    /// The workspace (`account_id`) of a record; JWTs are decoded by the caller.
    pub fn record_account_id(&self) -> Option<&str> {
        match self {
            StoredAgentIdentity::Record(record) => {
                record.get("account_id").and_then(serde_json::Value::as_str)
            }
            StoredAgentIdentity::Jwt(_) => None,
        }
    }
}

/// The whole stored document. Unknown keys (for example the Bedrock ones) are kept on rewrite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AuthDotJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<AuthMode>,
    /// Always serialized (`null` when absent).
    #[serde(rename = "OPENAI_API_KEY", default)]
    pub openai_api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_identity: Option<StoredAgentIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_access_token: Option<Secret>,
    #[serde(flatten)]
    pub other: OtherFields,
}

/// Keys this build does not model. May hold secrets (Bedrock keys), so `Debug` lists names only.
#[derive(Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct OtherFields(pub serde_json::Map<String, serde_json::Value>);

impl std::fmt::Debug for OtherFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl AuthDotJson {
    /// `{"auth_mode":"apikey","OPENAI_API_KEY":key}`.
    pub fn api_key(key: Secret) -> AuthDotJson {
        AuthDotJson {
            auth_mode: Some(AuthMode::ApiKey),
            openai_api_key: Some(key),
            ..AuthDotJson::default()
        }
    }

    /// The effective mode: `auth_mode` when present, else inferred from the fields (personal
    /// access token, Bedrock, API key, ChatGPT — in that order).
    pub fn effective_mode(&self) -> AuthMode {
        if let Some(mode) = self.auth_mode {
            return mode;
        }
        if self.personal_access_token.is_some() {
            AuthMode::PersonalAccessToken
        } else if self.other.0.contains_key("bedrock_api_key") {
            AuthMode::BedrockApiKey
        } else if self.other.0.contains_key("bedrock_access_keys") {
            AuthMode::BedrockAccessKeys
        } else if self.openai_api_key.is_some() {
            AuthMode::ApiKey
        } else {
            AuthMode::Chatgpt
        }
    }

    /// Pretty JSON, as the file store writes it.
    pub fn to_pretty_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AuthDotJson {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn api_key_document_has_exactly_the_upstream_keys() {
        let value = serde_json::to_value(AuthDotJson::api_key(Secret::new("sk-test"))).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-test"})
        );
    }

    #[test]
    fn openai_api_key_is_always_serialized() {
        let document = AuthDotJson {
            personal_access_token: Some(Secret::new("at-1")),
            ..AuthDotJson::default()
        };
        let value = serde_json::to_value(&document).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"OPENAI_API_KEY": null, "personal_access_token": "at-1"})
        );
    }

    #[test]
    fn mode_inference_follows_upstream_order() {
        assert_eq!(
            parse(r#"{"OPENAI_API_KEY":"sk-test-key","tokens":null,"last_refresh":null}"#)
                .effective_mode(),
            AuthMode::ApiKey
        );
        let legacy = r#"{"OPENAI_API_KEY":"sk","tokens":{"id_token":"a.b.c","access_token":"x","refresh_token":"y"}}"#;
        assert_eq!(parse(legacy).effective_mode(), AuthMode::ApiKey);
        assert_eq!(
            parse(r#"{"OPENAI_API_KEY":null}"#).effective_mode(),
            AuthMode::Chatgpt
        );
        assert_eq!(
            parse(r#"{"OPENAI_API_KEY":"sk","personal_access_token":"at-x"}"#).effective_mode(),
            AuthMode::PersonalAccessToken
        );
        assert_eq!(
            parse(r#"{"bedrock_api_key":{"k":"v"}}"#).effective_mode(),
            AuthMode::BedrockApiKey
        );
        assert_eq!(
            parse(r#"{"auth_mode":"apiKey","OPENAI_API_KEY":"sk"}"#).effective_mode(),
            AuthMode::ApiKey
        );
    }

    #[test]
    fn unknown_keys_survive_a_round_trip_and_stay_out_of_debug() {
        let document =
            parse(r#"{"OPENAI_API_KEY":null,"bedrock_api_key":{"key":"secret-bedrock"}}"#);
        let written = serde_json::to_value(&document).unwrap();
        assert_eq!(written["bedrock_api_key"]["key"], "secret-bedrock");
        assert!(!format!("{document:?}").contains("secret-bedrock"));
    }

    #[test]
    fn agent_identity_may_be_a_jwt_or_a_record() {
        let jwt = parse(
            r#"{"auth_mode":"agentIdentity","OPENAI_API_KEY":null,"agent_identity":"a.b.c"}"#,
        );
        assert!(matches!(
            jwt.agent_identity,
            Some(StoredAgentIdentity::Jwt(_))
        ));
        let record = parse(r#"{"agent_identity":{"account_id":"org_1","agent_private_key":"k"}}"#);
        let identity = record.agent_identity.unwrap();
        assert_eq!(identity.record_account_id(), Some("org_1"));
        assert!(!format!("{identity:?}").contains("agent_private_key"));
    }

    #[test]
    fn unknown_auth_mode_is_an_error() {
        assert!(serde_json::from_str::<AuthDotJson>(r#"{"auth_mode":"martian"}"#).is_err());
    }
}
