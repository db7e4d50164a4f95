//! Decoding access-token (agent-identity) JWTs: unverified (to store), prechecked (everything
//! but the signature, before any network request) and verified (RS256 against a JWKS).

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

/// Longest access token accepted (a JWT with a few claims is well under 4 KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why an access-token JWT was rejected. The texts are user-visible: they speak of "the access
/// token" (what `--with-access-token` and `CODEX_ACCESS_TOKEN` call it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentIdentityJwtError {
    #[error(
        "the access token is neither a personal access token (`at-…`) nor a JWT (`header.payload.signature`, base64url parts)"
    )]
    Format,
    #[error("the access token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("the access token's JWT header is not valid base64url-encoded JSON")]
    Header,
    #[error("the access token's JWT payload is not valid base64url")]
    PayloadEncoding,
    #[error("the access token's JWT payload is not JSON with the access-token claims")]
    PayloadJson,
    #[error("the access token's JWT header does not name its signing key (`kid`)")]
    MissingKid,
    /// The `kid` is the token's: it is filtered for the terminal when displayed.
    #[error(
        "the access token is signed with key `{}`, which the trusted key set (JWKS) does not list",
        printable(.0)
    )]
    UntrustedKid(String),
    #[error("the access token expired {} ago; get a new token", duration_text(*.0))]
    Expired(i64),
    #[error("the access token is not valid: {0}")]
    Verification(&'static str),
}

impl From<JwtFormatError> for AgentIdentityJwtError {
    fn from(error: JwtFormatError) -> Self {
        match error {
            JwtFormatError::PayloadEncoding => AgentIdentityJwtError::PayloadEncoding,
            JwtFormatError::HeaderEncoding => AgentIdentityJwtError::Header,
            JwtFormatError::Shape | JwtFormatError::SignatureEncoding => {
                AgentIdentityJwtError::Format
            }
        }
    }
}

/// `59s`, `5m`, `3h`, `2d`: the largest whole unit.
fn duration_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..=119 => format!("{seconds}s"),
        120..=7_199 => format!("{}m", seconds / 60),
        7_200..=172_799 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

/// A token that passed every check that needs no key.
struct Prechecked<'a> {
    jwt: RawJwt<'a>,
    kid: String,
    claims: AgentIdentityClaims,
}

/// Decode the claims without checking the signature. Used to store the token and to run an early
/// workspace check; never trust the result for anything else.
pub fn decode_agent_identity_jwt_unverified(
    token: &str,
) -> Result<AgentIdentityClaims, AgentIdentityJwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AgentIdentityJwtError::TooLong);
    }
    let jwt = RawJwt::parse(token)?;
    serde_json::from_slice(&jwt.payload).map_err(|_| AgentIdentityJwtError::PayloadJson)
}

/// Every check of [`verify_agent_identity_jwt`] that needs no key: shape, header (`kid`,
/// RS256), claims, issuer, audience and expiry (60 s leeway) at `now_unix`. Run it before
/// fetching the JWKS so a malformed or expired token fails without a network request. The
/// claims are still unverified.
pub fn precheck_agent_identity_jwt(
    token: &str,
    now_unix: i64,
) -> Result<AgentIdentityClaims, AgentIdentityJwtError> {
    precheck(token, now_unix).map(|checked| checked.claims)
}

fn precheck(token: &str, now_unix: i64) -> Result<Prechecked<'_>, AgentIdentityJwtError> {
    use AgentIdentityJwtError::Verification;

    if token.len() > MAX_TOKEN_BYTES {
        return Err(AgentIdentityJwtError::TooLong);
    }
    let jwt = RawJwt::parse(token)?;
    let header: Header =
        serde_json::from_slice(&jwt.header).map_err(|_| AgentIdentityJwtError::Header)?;
    let kid = header.kid.ok_or(AgentIdentityJwtError::MissingKid)?;
    if header.alg.as_deref() != Some("RS256") {
        return Err(Verification("its JWT algorithm is not RS256"));
    }
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
        return Err(AgentIdentityJwtError::Expired(
            now_unix.saturating_sub(claims.exp),
        ));
    }
    Ok(Prechecked { jwt, kid, claims })
}

/// Verify `token` against `jwks` at time `now_unix` (seconds): everything
/// [`precheck_agent_identity_jwt`] checks, then the header's `kid` must be in `jwks` and the
/// RS256 signature must verify with that key.
pub fn verify_agent_identity_jwt(
    token: &str,
    jwks: &Jwks,
    now_unix: i64,
) -> Result<AgentIdentityClaims, AgentIdentityJwtError> {
    let Prechecked { jwt, kid, claims } = precheck(token, now_unix)?;
    let key = jwks
        .key(&kid)
        .ok_or_else(|| AgentIdentityJwtError::UntrustedKid(kid.clone()))?;
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
        .map_err(|_| AgentIdentityJwtError::Verification("its signature does not match"))?;
    Ok(claims)
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
