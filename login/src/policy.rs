//! `forced_login_method` and `forced_chatgpt_workspace_id`: the checks and their messages.

use crate::http::printable;
use crate::settings::{AuthSettings, LoginMethod};

/// Why credentials are not allowed by the policy. The texts are the upstream messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("API key login is disabled. Use ChatGPT login instead.")]
    ApiKeyLoginDisabled,
    #[error("Access token login is disabled. Use API key login instead.")]
    AccessTokenLoginDisabled,
    #[error("ChatGPT login is disabled. Use API key login instead.")]
    ChatgptLoginDisabled,
    /// A login produced a token without a workspace claim while workspaces are forced.
    #[error(
        "Login is restricted to a specific workspace, but the token did not include an chatgpt_account_id claim."
    )]
    LoginMissingWorkspace,
    /// A login produced a token for another workspace.
    #[error("Login is restricted to workspace id(s) {allowed}.")]
    LoginWrongWorkspace { allowed: String },
    /// Stored or environment credentials use a method the policy forbids.
    #[error("ChatGPT login is required, but an API key is currently being used. Logging out.")]
    ChatgptRequired,
    #[error("API key login is required, but ChatGPT is currently being used. Logging out.")]
    ApiKeyRequired,
    /// `actual` comes from a token: it is filtered for the terminal when displayed.
    #[error(
        "Login is restricted to workspace(s) {allowed}, but current credentials belong to {}. Logging out.",
        printable(.actual)
    )]
    CredentialsWrongWorkspace { allowed: String, actual: String },
    #[error(
        "Login is restricted to workspace(s) {allowed}, but current credentials lack a workspace identifier. Logging out."
    )]
    CredentialsMissingWorkspace { allowed: String },
}

impl PolicyViolation {
    /// Whether this violation is about the workspace (as opposed to the login method).
    pub fn is_workspace(&self) -> bool {
        matches!(
            self,
            PolicyViolation::LoginMissingWorkspace
                | PolicyViolation::LoginWrongWorkspace { .. }
                | PolicyViolation::CredentialsWrongWorkspace { .. }
                | PolicyViolation::CredentialsMissingWorkspace { .. }
        )
    }
}

/// Workspaces joined with `, ` for messages.
fn allowed_list(settings: &AuthSettings) -> String {
    settings.forced_workspace_ids.join(", ")
}

/// The check a login flow runs on the workspace its new token belongs to.
pub(crate) fn check_login_workspace(
    settings: &AuthSettings,
    account_id: Option<&str>,
) -> Result<(), PolicyViolation> {
    if settings.forced_workspace_ids.is_empty() {
        return Ok(());
    }
    match account_id.map(str::trim).filter(|id| !id.is_empty()) {
        None => Err(PolicyViolation::LoginMissingWorkspace),
        Some(id)
            if settings
                .forced_workspace_ids
                .iter()
                .any(|allowed| allowed == id) =>
        {
            Ok(())
        }
        Some(_) => Err(PolicyViolation::LoginWrongWorkspace {
            allowed: allowed_list(settings),
        }),
    }
}

/// The check applied to credentials already in use (stored or from the environment).
pub(crate) fn check_credentials(
    settings: &AuthSettings,
    method: LoginMethod,
    account_id: Option<&str>,
) -> Result<(), PolicyViolation> {
    match (settings.forced_login_method, method) {
        (Some(LoginMethod::Chatgpt), LoginMethod::Api) => {
            return Err(PolicyViolation::ChatgptRequired);
        }
        (Some(LoginMethod::Api), LoginMethod::Chatgpt) => {
            return Err(PolicyViolation::ApiKeyRequired);
        }
        _ => {}
    }
    if method == LoginMethod::Api || settings.forced_workspace_ids.is_empty() {
        return Ok(());
    }
    match account_id.map(str::trim).filter(|id| !id.is_empty()) {
        None => Err(PolicyViolation::CredentialsMissingWorkspace {
            allowed: allowed_list(settings),
        }),
        Some(id)
            if settings
                .forced_workspace_ids
                .iter()
                .any(|allowed| allowed == id) =>
        {
            Ok(())
        }
        Some(id) => Err(PolicyViolation::CredentialsWrongWorkspace {
            allowed: allowed_list(settings),
            actual: id.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::settings::AuthEnvironment;

    fn settings(method: Option<LoginMethod>, workspaces: &[&str]) -> AuthSettings {
        let mut settings = AuthSettings::new(PathBuf::from("/x"), AuthEnvironment::default());
        settings.forced_login_method = method;
        settings.forced_workspace_ids = workspaces.iter().map(|id| id.to_string()).collect();
        settings
    }

    #[test]
    fn login_workspace_messages() {
        let forced = settings(None, &["org_a", "org_b"]);
        assert_eq!(check_login_workspace(&forced, Some("org_b")), Ok(()));
        assert_eq!(
            check_login_workspace(&forced, Some("org_c"))
                .unwrap_err()
                .to_string(),
            "Login is restricted to workspace id(s) org_a, org_b."
        );
        assert_eq!(
            check_login_workspace(&forced, None)
                .unwrap_err()
                .to_string(),
            "Login is restricted to a specific workspace, but the token did not include an chatgpt_account_id claim."
        );
        assert_eq!(check_login_workspace(&settings(None, &[]), None), Ok(()));
    }

    #[test]
    fn enforce_login_restrictions_messages() {
        let chatgpt_only = settings(Some(LoginMethod::Chatgpt), &[]);
        assert_eq!(
            check_credentials(&chatgpt_only, LoginMethod::Api, None)
                .unwrap_err()
                .to_string(),
            "ChatGPT login is required, but an API key is currently being used. Logging out."
        );
        let api_only = settings(Some(LoginMethod::Api), &[]);
        assert_eq!(
            check_credentials(&api_only, LoginMethod::Chatgpt, Some("org"))
                .unwrap_err()
                .to_string(),
            "API key login is required, but ChatGPT is currently being used. Logging out."
        );
        let mine = settings(None, &["org_mine"]);
        assert_eq!(
            check_credentials(&mine, LoginMethod::Chatgpt, Some("org_other"))
                .unwrap_err()
                .to_string(),
            "Login is restricted to workspace(s) org_mine, but current credentials belong to org_other. Logging out."
        );
        assert_eq!(
            check_credentials(&mine, LoginMethod::Chatgpt, None)
                .unwrap_err()
                .to_string(),
            "Login is restricted to workspace(s) org_mine, but current credentials lack a workspace identifier. Logging out."
        );
        assert_eq!(
            check_credentials(&mine, LoginMethod::Chatgpt, Some("org_mine")),
            Ok(())
        );
        // An API key is not subject to the workspace check when only a workspace is forced.
        assert_eq!(check_credentials(&mine, LoginMethod::Api, None), Ok(()));
    }

    /// Regression: a workspace id from a token reached the terminal unfiltered.
    #[test]
    fn credentials_wrong_workspace_prints_escape_sequences() {
        let mine = settings(None, &["org_mine"]);
        let forged = format!("org_\u{1b}]2;owned\u{7}{}", "x".repeat(400));
        let message = check_credentials(&mine, LoginMethod::Chatgpt, Some(&forged))
            .unwrap_err()
            .to_string();
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(
            message.starts_with(
                "Login is restricted to workspace(s) org_mine, but current credentials belong to org_ ]2;owned xxx"
            ),
            "{message}"
        );
        assert!(message.ends_with("x. Logging out."), "{message}");
        assert!(message.len() < 300, "{}", message.len());
    }
}
