//! `CodexAuth`: the credentials a command runs with, and how they are described.

use crate::access_token::PersonalAccessTokenMetadata;
use crate::auth_file::{AuthMode, TokenData};
use crate::secret::Secret;
use crate::settings::LoginMethod;
use crate::time::Timestamp;
use crate::token_data::IdTokenInfo;

/// Where credentials came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// `CODEX_API_KEY` / `CODEX_ACCESS_TOKEN`; never written to disk.
    Environment,
    /// The configured credential store.
    Store,
}

/// Resolved credentials.
#[derive(Debug, Clone)]
pub enum CodexAuth {
    ApiKey {
        key: Secret,
        source: CredentialSource,
    },
    Chatgpt {
        tokens: TokenData,
        id_token: IdTokenInfo,
        /// The API key obtained by token exchange at login, if any.
        api_key: Option<Secret>,
        last_refresh: Option<Timestamp>,
    },
    AgentIdentity {
        /// The JWT (absent for a stored record written by another client).
        token: Option<Secret>,
        account_id: Option<String>,
        source: CredentialSource,
    },
    PersonalAccessToken {
        token: Secret,
        metadata: PersonalAccessTokenMetadata,
        source: CredentialSource,
    },
    /// Amazon Bedrock credentials written by another client (shown, never used here).
    Bedrock { mode: AuthMode },
}

impl CodexAuth {
    /// The login method this counts as for `forced_login_method`.
    pub fn method(&self) -> LoginMethod {
        match self {
            CodexAuth::ApiKey { .. } | CodexAuth::Bedrock { .. } => LoginMethod::Api,
            CodexAuth::Chatgpt { .. }
            | CodexAuth::AgentIdentity { .. }
            | CodexAuth::PersonalAccessToken { .. } => LoginMethod::Chatgpt,
        }
    }

    /// The ChatGPT workspace the credentials belong to.
    pub fn account_id(&self) -> Option<&str> {
        match self {
            CodexAuth::Chatgpt {
                tokens, id_token, ..
            } => id_token.account_id().or(tokens.account_id.as_deref()),
            CodexAuth::AgentIdentity { account_id, .. } => account_id.as_deref(),
            CodexAuth::PersonalAccessToken { metadata, .. } => {
                metadata.chatgpt_account_id.as_deref()
            }
            CodexAuth::ApiKey { .. } | CodexAuth::Bedrock { .. } => None,
        }
    }

    /// A stable name of the kind of credentials (for machine-readable output): `api_key`,
    /// `chatgpt`, `access_token`, `personal_access_token`, `bedrock_api_key`,
    /// `bedrock_access_keys`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            CodexAuth::ApiKey { .. } => "api_key",
            CodexAuth::Chatgpt { .. } => "chatgpt",
            CodexAuth::AgentIdentity { .. } => "access_token",
            CodexAuth::PersonalAccessToken { .. } => "personal_access_token",
            CodexAuth::Bedrock {
                mode: AuthMode::BedrockAccessKeys,
            } => "bedrock_access_keys",
            CodexAuth::Bedrock { .. } => "bedrock_api_key",
        }
    }

    /// Where the credentials came from (ChatGPT tokens and Bedrock are always stored).
    pub fn source(&self) -> CredentialSource {
        match self {
            CodexAuth::ApiKey { source, .. }
            | CodexAuth::AgentIdentity { source, .. }
            | CodexAuth::PersonalAccessToken { source, .. } => *source,
            CodexAuth::Chatgpt { .. } | CodexAuth::Bedrock { .. } => CredentialSource::Store,
        }
    }

    /// The `codex login status` line.
    pub fn status_line(&self) -> String {
        match self {
            CodexAuth::ApiKey { key, .. } => {
                format!("Logged in using an API key - {}", mask_api_key(key))
            }
            CodexAuth::Chatgpt { .. } => "Logged in using ChatGPT".to_string(),
            CodexAuth::AgentIdentity { .. } => "Logged in using access token".to_string(),
            CodexAuth::PersonalAccessToken { .. } => {
                "Logged in using personal access token".to_string()
            }
            CodexAuth::Bedrock {
                mode: AuthMode::BedrockAccessKeys,
            } => "Logged in using Amazon Bedrock AWS access keys".to_string(),
            CodexAuth::Bedrock { .. } => "Logged in using Amazon Bedrock API key".to_string(),
        }
    }
}

/// `sk-proj-1234567890ABCDE` → `sk-proj-***ABCDE`; keys of 13 characters or fewer → `***`.
pub fn mask_api_key(key: &Secret) -> String {
    let chars: Vec<char> = key.expose().chars().collect();
    if chars.len() <= 13 {
        return "***".to_string();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 5..].iter().collect();
    format!("{head}***{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_long_key() {
        assert_eq!(
            mask_api_key(&Secret::new("sk-proj-1234567890ABCDE")),
            "sk-proj-***ABCDE"
        );
    }

    #[test]
    fn short_key_returns_stars() {
        assert_eq!(mask_api_key(&Secret::new("sk-proj-12345")), "***");
        assert_eq!(
            mask_api_key(&Secret::new("ключ-ключ-ключ-ключ")),
            "ключ-клю***-ключ"
        );
    }
}
