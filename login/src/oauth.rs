//! OAuth pieces shared by the browser and device-code flows: PKCE, the code exchange, the
//! best-effort API-key token exchange, and finishing a login (workspace check + persist).

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;

use crate::auth_file::TokenData;
use crate::http::{HttpClient, error_summary};
use crate::log::login_log;
use crate::manager::AuthManager;
use crate::policy::{PolicyViolation, check_login_workspace};
use crate::secret::Secret;
use crate::storage::AuthStoreError;
use crate::token_data::{IdTokenInfo, parse_chatgpt_jwt_claims};

const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);

/// A PKCE pair: the verifier is base64url of 64 random bytes; the challenge is base64url of its
/// SHA-256 (method `S256`).
pub(crate) struct Pkce {
    pub(crate) verifier: Secret,
    pub(crate) challenge: String,
}

pub(crate) fn random_base64url(bytes: usize) -> Result<String, ring::error::Unspecified> {
    let mut buffer = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buffer)?;
    Ok(codex_agent_identity::base64url_encode(&buffer))
}

impl Pkce {
    pub(crate) fn generate() -> Result<Pkce, ring::error::Unspecified> {
        let verifier = random_base64url(64)?;
        Ok(Pkce {
            challenge: challenge_for(&verifier),
            verifier: Secret::new(verifier),
        })
    }
}

pub(crate) fn challenge_for(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    codex_agent_identity::base64url_encode(digest.as_ref())
}

#[derive(Debug, thiserror::Error)]
pub enum TokenExchangeError {
    #[error("token endpoint request failed: {0}")]
    Request(String),
    #[error("token endpoint returned status {status}: {summary}")]
    Status { status: u16, summary: String },
    #[error("token endpoint returned an unexpected response")]
    Response,
}

#[derive(Deserialize)]
struct CodeExchangeResponse {
    id_token: Secret,
    access_token: Secret,
    refresh_token: Secret,
}

/// Exchange an authorization code for tokens at `{issuer}/oauth/token`.
pub(crate) fn exchange_code(
    manager: &AuthManager,
    redirect_uri: &str,
    code: &Secret,
    verifier: &Secret,
) -> Result<TokenData, TokenExchangeError> {
    let settings = &manager.settings;
    let client = HttpClient::new(TOKEN_TIMEOUT, settings.originator());
    let url = format!("{}/oauth/token", settings.issuer());
    let response = client
        .post_form(
            &url,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.expose()),
                ("redirect_uri", redirect_uri),
                ("client_id", &settings.client_id),
                ("code_verifier", verifier.expose()),
            ],
        )
        .map_err(|error| TokenExchangeError::Request(error.to_string()))?;
    if !response.is_success() {
        return Err(TokenExchangeError::Status {
            status: response.status,
            summary: error_summary(&response.body, &[code, verifier]),
        });
    }
    let tokens: CodeExchangeResponse =
        serde_json::from_slice(&response.body).map_err(|_| TokenExchangeError::Response)?;
    Ok(TokenData {
        id_token: tokens.id_token,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        account_id: None,
    })
}

/// Best effort: trade the id_token for an API key (`requested_token=openai-api-key`).
pub(crate) fn obtain_api_key(manager: &AuthManager, id_token: &Secret) -> Option<Secret> {
    #[derive(Deserialize)]
    struct ExchangeResponse {
        access_token: Secret,
    }
    let settings = &manager.settings;
    let client = HttpClient::new(TOKEN_TIMEOUT, settings.originator());
    let url = format!("{}/oauth/token", settings.issuer());
    let result = client.post_form(
        &url,
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("client_id", &settings.client_id),
            ("requested_token", "openai-api-key"),
            ("subject_token", id_token.expose()),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
        ],
    );
    match result {
        Ok(response) if response.is_success() => {
            match serde_json::from_slice::<ExchangeResponse>(&response.body) {
                Ok(exchange) => Some(exchange.access_token),
                Err(_) => {
                    login_log(format_args!(
                        "API key exchange returned an unexpected response"
                    ));
                    None
                }
            }
        }
        Ok(response) => {
            login_log(format_args!(
                "API key exchange failed with status {}",
                response.status
            ));
            None
        }
        Err(error) => {
            login_log(format_args!("API key exchange failed: {error}"));
            None
        }
    }
}

/// Why tokens from a completed OAuth exchange were not stored.
#[derive(Debug, thiserror::Error)]
pub enum FinishLoginError {
    #[error(transparent)]
    Policy(#[from] PolicyViolation),
    #[error("Sign-in completed but credentials could not be saved locally: {0}")]
    Persist(#[from] AuthStoreError),
}

/// Check the workspace, try the API-key exchange, persist. Returns the id_token claims.
pub(crate) fn finish_login(
    manager: &AuthManager,
    tokens: TokenData,
) -> Result<IdTokenInfo, FinishLoginError> {
    let claims = parse_chatgpt_jwt_claims(tokens.id_token.expose()).unwrap_or_default();
    check_login_workspace(&manager.settings, claims.account_id())?;
    let api_key = obtain_api_key(manager, &tokens.id_token);
    manager.persist_chatgpt_tokens(tokens, api_key)?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_verifier_is_86_characters_and_challenge_is_its_sha256() {
        let pkce = Pkce::generate().unwrap();
        assert_eq!(pkce.verifier.expose().len(), 86);
        assert_eq!(pkce.challenge, challenge_for(pkce.verifier.expose()));
        // RFC 7636 appendix B.
        assert_eq!(
            challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_ne!(Pkce::generate().unwrap().challenge, pkce.challenge);
    }
}
