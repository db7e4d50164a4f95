//! Sign-in settings after requirements are applied.

use crate::types::{CredentialsStore, LoginMethod};

/// The default `chatgpt_base_url`.
pub const DEFAULT_CHATGPT_BASE_URL: &str = "https://chatgpt.com/backend-api/";

/// `cli_auth_credentials_store`, `forced_login_method`, `forced_chatgpt_workspace_id` and
/// `chatgpt_base_url`, with managed requirements applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSettings {
    pub credentials_store: CredentialsStore,
    pub forced_login_method: Option<LoginMethod>,
    /// Empty when no workspace is forced (a single string in the file becomes one entry).
    pub forced_chatgpt_workspace_id: Vec<String>,
    pub chatgpt_base_url: String,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            credentials_store: CredentialsStore::File,
            forced_login_method: None,
            forced_chatgpt_workspace_id: Vec::new(),
            chatgpt_base_url: DEFAULT_CHATGPT_BASE_URL.to_string(),
        }
    }
}
