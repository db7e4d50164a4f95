//! Decoding agent-identity JWTs: unverified (to store and pre-check) and verified (RS256 against
//! a JWKS, with issuer, audience and expiry checks).

use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde::Deserialize;

use crate::claims::AgentIdentityClaims;
use crate::jwks::Jwks;
use crate::jwt::{JwtFormatError, RawJwt};
use crate::text::printable;

/// The only issuer an agent-identity JWT may carry.
pub const AGENT_IDENTITY_ISSUER: &str = "https://chatgpt.com/codex-backend/agent-identity";
/// The audience an agent-identity JWT must be addressed to.
pub const AGENT_IDENTITY_AUDIENCE: &str = "codex-app-server";
/// Clock skew tolerated when checking `exp`, in seconds.
const EXPIRY_LEEWAY_SECONDS: i64 = 60;

/// Why an agent-identity JWT was rejected. The texts are part of the user-visible contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentIdentityJwtError {
    #[error("invalid agent identity JWT format")]
    Format,
    #[error("agent identity JWT payload is not valid base64url")]
    PayloadEncoding,
    #[error("agent identity JWT payload is not valid JSON")]
    PayloadJson,
    #[error("agent identity JWT header does not include a kid")]
    MissingKid,
    /// The `kid` is the token's: it is filtered for the terminal when displayed.
    #[error("agent identity JWT kid {} is not trusted", printable(.0))]
    UntrustedKid(String),
    #[error("failed to verify agent identity JWT: {0}")]
    Verification(&'static str),
}

impl From<JwtFormatError> for AgentIdentityJwtError {
    fn from(error: JwtFormatError) -> Self {
        match error {
            JwtFormatError::PayloadEncoding => AgentIdentityJwtError::PayloadEncoding,
            JwtFormatError::Shape
            | JwtFormatError::HeaderEncoding
            | JwtFormatError::SignatureEncoding => AgentIdentityJwtError::Format,
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

/// Decode the claims without checking the signature. Used to store the token and to run an early
/// workspace check; never trust the result for anything else.
pub fn decode_agent_identity_jwt_unverified(
    token: &str,
) -> Result<AgentIdentityClaims, AgentIdentityJwtError> {
    let jwt = RawJwt::parse(token)?;
    serde_json::from_slice(&jwt.payload).map_err(|_| AgentIdentityJwtError::PayloadJson)
}

/// Verify `token` against `jwks` at time `now_unix` (seconds): the header must name a trusted
/// `kid`, the algorithm must be RS256, the signature must verify, `iss` and `aud` must be the
/// agent-identity values and `exp` must not have passed (60 s leeway).
pub fn verify_agent_identity_jwt(
    token: &str,
    jwks: &Jwks,
    now_unix: i64,
) -> Result<AgentIdentityClaims, AgentIdentityJwtError> {
    use AgentIdentityJwtError::Verification;

    let jwt = RawJwt::parse(token)?;
    let header: Header = serde_json::from_slice(&jwt.header)
        .map_err(|_| Verification("the JWT header is not valid JSON"))?;
    let kid = header.kid.ok_or(AgentIdentityJwtError::MissingKid)?;
    let key = jwks
        .key(&kid)
        .ok_or_else(|| AgentIdentityJwtError::UntrustedKid(kid.clone()))?;
    if header.alg.as_deref() != Some("RS256") {
        return Err(Verification("the JWT algorithm is not RS256"));
    }
    let public_key = RsaPublicKeyComponents {
        n: key.modulus.as_slice(),
        e: key.exponent.as_slice(),
    };
    public_key
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            jwt.signing_input.as_bytes(),
            &jwt.signature,
        )
        .map_err(|_| Verification("the signature does not match"))?;

    let payload: serde_json::Value =
        serde_json::from_slice(&jwt.payload).map_err(|_| AgentIdentityJwtError::PayloadJson)?;
    match payload.get("iss") {
        None => return Err(Verification("the `iss` claim is missing")),
        Some(iss) if iss.as_str() != Some(AGENT_IDENTITY_ISSUER) => {
            return Err(Verification(
                "the `iss` claim is not the agent-identity issuer",
            ));
        }
        Some(_) => {}
    }
    if payload.get("aud").is_none() {
        return Err(Verification("the `aud` claim is missing"));
    }
    if payload.get("exp").is_none() {
        return Err(Verification("the `exp` claim is missing"));
    }
    let claims: AgentIdentityClaims =
        serde_json::from_value(payload).map_err(|_| AgentIdentityJwtError::PayloadJson)?;
    if !claims.aud.contains(AGENT_IDENTITY_AUDIENCE) {
        return Err(Verification(
            "the `aud` claim does not include codex-app-server",
        ));
    }
    if claims.exp.saturating_add(EXPIRY_LEEWAY_SECONDS) < now_unix {
        return Err(Verification("the token has expired"));
    }
    Ok(claims)
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
